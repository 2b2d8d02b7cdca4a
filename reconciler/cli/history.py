"""`reconciler history`: the deployed reconciler's recent runs of one environment, newest first."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # boto3 and the table code load only when the command runs
    from reconciler.history import RunRecord

TABLE_VARIABLE = "RECONCILER_RUNS_TABLE"


def register(commands: Any) -> None:
    history = commands.add_parser(
        "history",
        help="list the deployed reconciler's recent runs of an environment",
        description=(
            "List recent runs from the run-history table (the stack output RunsTableName), "
            "newest first."
        ),
    )
    history.add_argument("--env", required=True, metavar="ENV", help="environment name")
    history.add_argument(
        "--table",
        metavar="NAME",
        help=f"the run-history table (default: ${TABLE_VARIABLE})",
    )
    history.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="how many runs (default 20)"
    )
    history.add_argument("--format", choices=["text", "json"], default="text")
    history.set_defaults(run=run_history, parser=history)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def run_history(args: argparse.Namespace) -> int:
    table_name = args.table or os.environ.get(TABLE_VARIABLE)
    if not table_name:
        parser: argparse.ArgumentParser = args.parser
        parser.error(f"no table: pass --table NAME or set {TABLE_VARIABLE}")  # exits 2

    from reconciler.aws import RETRY_CONFIG, client
    from reconciler.history import RunsTable

    table = RunsTable(client("dynamodb", config=RETRY_CONFIG), table_name)
    runs = table.runs(args.env, limit=args.limit)
    if args.format == "json":
        print(json.dumps([run.to_json() for run in runs], indent=2))
    elif not runs:
        print(f"No runs of environment {args.env!r} in table {table_name!r}.")
    else:
        print(table_text(runs))
    return 0


HEADERS = ("STARTED", "RUN ID", "TRIGGER", "REVISION", "STATUS", "CHANGES", "DURATION")


def table_text(runs: list[RunRecord]) -> str:
    """The runs as aligned columns, one line each; text from the table cannot drive the
    terminal."""
    from reconciler.explain import printable

    rows = [HEADERS]
    for run in runs:
        rows.append(
            (
                run.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                printable(run.run_id),
                run.trigger,
                printable(run.revision[:12]) if run.revision else "-",
                run.status,
                changes(run),
                duration(run.duration_ms),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def changes(run: RunRecord) -> str:
    """`1 create, 2 update, 1 blocked`: the plan's counts that are not zero, or `-`."""
    summary = run.summary
    counts = [
        (summary.create, "create"),
        (summary.update, "update"),
        (summary.delete, "delete"),
        (summary.blocked, "blocked"),
    ]
    text = ", ".join(f"{number} {action}" for number, action in counts if number)
    return text or "-"


def duration(milliseconds: int) -> str:
    """`850ms`, `12.3s`, `4m05s`."""
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"
