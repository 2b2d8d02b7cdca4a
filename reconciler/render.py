"""How plans and results read: terraform-like text, a pull-request comment, or the JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.outcome import ChangeResult, Outcome
from reconciler.plan import Action, Change, Plan, summary_line

_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.BLOCKED: "!",
    Action.NOOP: " ",
}
_COLOURS = {
    Action.CREATE: "32",
    Action.UPDATE: "33",
    Action.DELETE: "31",
    Action.BLOCKED: "35",
    Action.NOOP: "0",
}
_WORDS = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DELETE: "will be deleted",
    Action.BLOCKED: "is blocked",
}


def value(item: Any) -> str:
    """A field value as it reads in a plan: JSON, so strings are quoted and null is null."""
    return json.dumps(item, sort_keys=True, default=str)


class Text:
    """Terraform-style text, coloured when `colour` is true."""

    def __init__(self, colour: bool = False) -> None:
        self.colour = colour

    def paint(self, text: str, action: Action, bold: bool = False) -> str:
        if not self.colour:
            return text
        code = _COLOURS[action] + (";1" if bold else "")
        return f"\033[{code}m{text}\033[0m"

    def plan(self, plan: Plan) -> str:
        lines = [self._header(plan), ""]
        drifted = [c for c in plan.changes if c.action is not Action.NOOP]
        for change in drifted:
            lines.extend(self._change(change))
        unchanged = [c.ref for c in plan.changes if c.action is Action.NOOP]
        if not drifted:
            lines.append("No changes. AWS matches the manifests.")
        if unchanged:
            lines.append(f"  {len(unchanged)} unchanged: {', '.join(unchanged)}")
        noted = [c for c in plan.changes if c.action is Action.NOOP and c.reason]
        lines += [f"      {c.ref}: {c.reason}" for c in noted]
        lines += [f"\nWarning: {warning}" for warning in plan.warnings]
        lines += ["", f"Plan: {summary_line(plan)}."]
        return "\n".join(lines)

    def _header(self, plan: Plan) -> str:
        revision = f" at {plan.revision[:12]}" if plan.revision else ""
        return f"Environment {plan.environment} (account {plan.account}, {plan.region}){revision}"

    def _change(self, change: Change) -> list[str]:
        symbol = _SYMBOLS[change.action]
        head = f"  {symbol} {change.ref} {_WORDS[change.action]}"
        lines = [self.paint(head, change.action, bold=True)]
        if change.reason:
            lines.append(f"      {change.reason}")
        width = max((len(d.field) for d in change.diffs), default=0)
        for diff in change.diffs:
            if change.action is Action.CREATE:
                shown = value(diff.desired)
            else:
                shown = f"{value(diff.actual)} -> {value(diff.desired)}"
            lines.append(
                self.paint(f"      {symbol} {diff.field.ljust(width)} = {shown}", change.action)
            )
        lines.append("")
        return lines

    def results(self, results: Sequence[ChangeResult]) -> str:
        lines = []
        for result in results:
            change = result.change
            if result.succeeded:
                lines.append(self.paint(f"  ✓ {change.action.value} {change.ref}", Action.CREATE))
            else:
                lines.append(
                    self.paint(
                        f"  ✗ {change.action.value} {change.ref}: {result.error}", Action.DELETE
                    )
                )
        ok = sum(1 for r in results if r.succeeded)
        lines.append(f"Apply: {ok} succeeded, {len(results) - ok} failed.")
        return "\n".join(lines)


def markdown(plan: Plan) -> str:
    """A pull-request comment: a summary line, a table of drift, and the unchanged folded away."""
    revision = f" at `{plan.revision[:12]}`" if plan.revision else ""
    lines = [
        f"### reconciler plan: `{plan.environment}`{revision}",
        "",
        f"**{summary_line(plan)}** (account `{plan.account}`, `{plan.region}`)",
        "",
    ]
    drifted = [c for c in plan.changes if c.action is not Action.NOOP]
    if drifted:
        lines += ["| | resource | field | actual | desired |", "|---|---|---|---|---|"]
        for change in drifted:
            ref = f"`{change.ref}`"
            if not change.diffs:
                reason = change.reason or ""
                lines.append(f"| {_SYMBOLS[change.action]} | {ref} | {reason} | | |")
            for diff in change.diffs:
                lines.append(
                    f"| {_SYMBOLS[change.action]} | {ref} | `{diff.field}` | "
                    f"`{_cell(diff.actual)}` | `{_cell(diff.desired)}` |"
                )
        lines.append("")
    else:
        lines += ["No changes: AWS matches the manifests.", ""]
    unchanged = [c.ref for c in plan.changes if c.action is Action.NOOP]
    if unchanged:
        lines += [
            f"<details><summary>{len(unchanged)} unchanged</summary>",
            "",
            *[f"- `{ref}`" for ref in unchanged],
            "",
            "</details>",
        ]
    if plan.warnings:
        lines += ["", *[f"> **Warning:** {warning}" for warning in plan.warnings]]
    return "\n".join(lines) + "\n"


def _cell(item: Any) -> str:
    return value(item).replace("|", "\\|").replace("`", "'")


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """`apply --format json`: the plan, each change's result, the verification and the status."""
    return {
        "plan": outcome.plan.to_json(),
        "refused": outcome.refusal,
        "results": [result.to_json() for result in outcome.results],
        "verified": outcome.verified.to_json() if outcome.verified else None,
        "error": outcome.error,
        "status": outcome.status.value,
    }
