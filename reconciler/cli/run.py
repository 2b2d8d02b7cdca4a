"""`reconciler plan` and `reconciler apply`: the pipeline from a terminal, a person in the loop."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from reconciler.errors import ManifestsInvalid
from reconciler.loader import EnvironmentManifests, load_environment

if TYPE_CHECKING:  # the AWS side is imported when a command needs it: `validate` stays quick
    from reconciler.outcome import Outcome
    from reconciler.plan import Plan
    from reconciler.render import Text


def register(commands: Any) -> None:
    plan = commands.add_parser(
        "plan", help="show what it would take to make AWS match the manifests"
    )
    _common(plan)
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when in sync, 2 when there is drift, 1 on error",
    )
    plan.set_defaults(run=run_plan)

    apply = commands.add_parser("apply", help="plan, confirm, apply and verify")
    _common(apply)
    apply.add_argument("--yes", action="store_true", help="apply without asking")
    apply.set_defaults(run=run_apply)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, metavar="ENV", help="environment folder name")
    parser.add_argument("--manifests", default="manifests", metavar="DIR")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    parser.add_argument("--revision", default=None, help=argparse.SUPPRESS)


def _load(args: argparse.Namespace) -> EnvironmentManifests | None:
    folder = os.path.join(args.manifests, args.env)
    if not os.path.isdir(folder):
        print(f"reconciler: no environment folder {folder}", file=sys.stderr)
        return None
    try:
        return load_environment(folder)
    except ManifestsInvalid as invalid:
        from reconciler.explain import printable

        for error in invalid.errors:
            print(printable(str(error)), file=sys.stderr)
        return None


def _progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _print_plan(plan: Plan, fmt: str) -> None:
    from reconciler.render import Text, markdown

    if fmt == "json":
        print(json.dumps(plan.to_json(), indent=2))
    elif fmt == "markdown":
        sys.stdout.write(markdown(plan))
    else:
        print(Text(_colour()).plan(plan))


def run_plan(args: argparse.Namespace) -> int:
    from reconciler.pipeline import clients_for, reconcile

    manifests = _load(args)
    if manifests is None:
        return 1
    outcome = reconcile(
        clients_for(manifests),
        manifests,
        apply_changes=False,
        revision=args.revision,
        progress=_progress,
    )
    _print_plan(outcome.plan, args.format)
    if args.detailed_exitcode:
        return 0 if outcome.plan.in_sync else 2
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from reconciler.outcome import Status
    from reconciler.pipeline import clients_for, reconcile
    from reconciler.render import Text

    manifests = _load(args)
    if manifests is None:
        return 1
    text = Text(_colour())
    shown: list[Plan] = []

    def confirm(plan: Plan) -> bool:
        if args.format == "text":
            print(text.plan(plan))
            shown.append(plan)
        if args.yes:
            return True
        if not sys.stdin.isatty():
            print(
                "reconciler: refusing to apply without --yes (stdin is not a terminal)",
                file=sys.stderr,
            )
            return False
        answer = input(
            f"\nApply {len(plan.writes)} change(s) to {plan.environment} "
            f"(account {plan.account})? Only 'yes' is accepted: "
        )
        return answer.strip() == "yes"

    outcome = reconcile(
        clients_for(manifests),
        manifests,
        apply_changes=True,
        revision=args.revision,
        progress=_progress,
        confirm=confirm,
    )
    _report(outcome, args.format, text, plan_shown=bool(shown))
    return 0 if outcome.status in (Status.IN_SYNC, Status.CORRECTED) else 1


def _report(outcome: Outcome, fmt: str, text: Text, *, plan_shown: bool) -> None:
    from reconciler.render import markdown, outcome_json

    if fmt == "json":
        print(json.dumps(outcome_json(outcome), indent=2))
        return
    if fmt == "markdown":
        sys.stdout.write(markdown(outcome.plan))
    elif not plan_shown:
        print(text.plan(outcome.plan))  # confirm never ran (nothing to write, or refused)
    if outcome.refusal:
        print(f"\nRefused: {outcome.refusal}.")
    if outcome.results:
        print()
        print(text.results(outcome.results))
    if outcome.verified is not None:
        left = [c for c in outcome.verified.changes if c.action.value != "noop"]
        verdict = (
            "AWS matches the manifests"
            if not left
            else (f"{len(left)} resource(s) still differ: " + ", ".join(c.ref for c in left))
        )
        print(f"Verify: {verdict}.")
    if outcome.error:
        print(f"Verify: {outcome.error}.")
    print(f"Status: {outcome.status.value}")
