"""`python -m tests.benchmarks` (`make bench`): run every `bench_*.py` here and print a table.

Each benchmark module has a `main()` returning rows (a list of dicts, or one dict): `benchmark`,
`measure`, `value` (None when it could not be measured), `unit`, and optionally `goal`, `better`
(`higher`, the default: the goal is the least acceptable value; `lower`: the most) and `ok`; any
other keys (timings, profiles) go to the JSON only. A row without a goal is information. A module
that raises becomes one missed row saying why, and the others still run.

`python -m tests.benchmarks [RESULTS.json] [NAME …]`: the rows also go to `bench-results.json` (or
the given path) for CI to keep or compare; names (`plan`, `bench_memory`) pick modules. The exit
code is 1 when a row misses its goal, so a slow-down fails the job running it.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
import traceback
from typing import Any

import tests.benchmarks as package

RESULTS = "bench-results.json"


def run_all(names: list[str] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("bench_"):
            continue
        if names and module.name not in names and module.name.removeprefix("bench_") not in names:
            continue
        started = time.perf_counter()
        try:
            bench = importlib.import_module(f"{package.__name__}.{module.name}")
            result = bench.main()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            result = {
                "benchmark": module.name.removeprefix("bench_"),
                "measure": f"crashed: {type(exc).__name__}: {exc}"[:200],
                "value": None,
                "unit": "",
                "ok": False,
            }
        for row in [result] if isinstance(result, dict) else result or []:
            rows.append({"module": module.name, **row})
        print(f"ran {module.name} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return rows


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        decimals = 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
        return f"{value:,.{decimals}f}"
    return f"{value:,}"


def _verdict(row: dict[str, Any]) -> str:
    if row.get("goal") is None and "ok" not in row:
        return "info"
    return "pass" if row.get("ok", True) else "MISSED"


def table(rows: list[dict[str, Any]]) -> str:
    header = ("benchmark", "measure", "result", "goal", "")
    lines = [
        (
            row["benchmark"],
            row["measure"],
            f"{_number(row['value'])} {row['unit']}".rstrip(),
            (
                f"{'≤' if row.get('better') == 'lower' else '≥'} {row['goal']:,g}"
                if row.get("goal") is not None
                else "—"
            ),
            _verdict(row),
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
    outputs = [arg for arg in argv if arg.endswith(".json")]
    output = outputs[0] if outputs else RESULTS
    rows = run_all([arg for arg in argv if not arg.endswith(".json")])
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
