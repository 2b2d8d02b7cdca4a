"""`python -m tests.benchmarks` (`make bench`): run every `bench_*.py` here and print a table.

Each benchmark module has a `main()` returning rows (a list of dicts, or one dict): `benchmark`,
`measure`, `value`, `unit`, and optionally `goal` (the least acceptable value) and `ok`. The rows
also go to `bench-results.json` (or the path given as the first argument) for CI to keep or
compare. The exit code is 1 when a row misses its goal, so a slow-down fails the job running it.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
from typing import Any

import tests.benchmarks as package

RESULTS = "bench-results.json"


def run_all() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("bench_"):
            continue
        bench = importlib.import_module(f"{package.__name__}.{module.name}")
        started = time.perf_counter()
        result = bench.main()
        for row in [result] if isinstance(result, dict) else result or []:
            rows.append({"module": module.name, **row})
        print(f"ran {module.name} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    header = ("benchmark", "measure", "result", "goal", "")
    lines = [
        (
            row["benchmark"],
            row["measure"],
            f"{row['value']:,} {row['unit']}",
            f"≥ {row['goal']:,}" if row.get("goal") is not None else "",
            "" if row.get("ok", True) else "MISSED",
        )
        for row in rows
    ]
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()
        for cells in [header, *lines]
    )


def main(argv: list[str]) -> int:
    output = argv[0] if argv else RESULTS
    rows = run_all()
    print(table(rows))
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": rows,
    }
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    print(f"wrote {output}", file=sys.stderr)
    return 0 if all(row.get("ok", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
