"""The `reconciler` command line: one parser, one module per command.

Every command returns its exit code; nothing a user can type ends in a traceback. Usage errors
exit 2, as argparse does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from reconciler.cli import demo, history, publish, run, validate
from reconciler.errors import ReconcilerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconciler",
        description="GitOps reconciler for the runtime knobs of a serverless AWS stack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate.register(commands)
    run.register(commands)
    publish.register(commands)
    history.register(commands)
    demo.register(commands)
    return parser


def _is_aws_error(exc: Exception) -> bool:
    """botocore's errors (credentials, endpoints, API errors); botocore is imported only once
    such an error has reached here, so `validate` never loads it."""
    if not any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__):
        return False
    from reconciler.aws_errors import is_aws_error

    return is_aws_error(exc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ReconcilerError as exc:
        print(f"reconciler: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        what = "AWS error" if _is_aws_error(exc) else f"internal error ({type(exc).__name__})"
        print(f"reconciler: {what}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reconciler: interrupted", file=sys.stderr)
        return 130
    return code
