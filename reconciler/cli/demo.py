"""`reconciler demo [--stack NAME]`: the whole loop on an embedded AWS emulator.

Without `--stack`, a small built-in stack; with it, the `dev` environment of one of the examples
shipped with the package (`examples/` in the repository). The emulator is the `demo` extra and is
imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.demo.catalog import STACKS


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="the whole loop on an embedded AWS emulator (no account needed)"
    )
    demo.add_argument(
        "--stack",
        choices=STACKS,
        metavar="NAME",
        help=f"run it on the dev environment of an example: {', '.join(STACKS)}",
    )
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from reconciler.demo.run import main as demo

    return demo(args.stack)
