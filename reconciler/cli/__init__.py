"""The `reconciler` command line: one parser, one module per command.

Every command returns its exit code; nothing a user can type ends in a traceback. Usage errors
exit 2, as argparse does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from reconciler.cli import validate
from reconciler.errors import ReconcilerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconciler",
        description="GitOps reconciler for the runtime knobs of a serverless AWS stack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ReconcilerError as exc:
        print(f"reconciler: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reconciler: interrupted", file=sys.stderr)
        return 130
    return code
