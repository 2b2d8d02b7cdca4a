"""The one place the stages are composed: check account → observe → plan → gate → apply → verify.

The CLI and the demo call `reconcile`; the Step Functions handlers call the same stage functions
one per state. Each stage is here once.

What "plan" names: `reconciler.plan` is the plan as a value (`Plan`, `Change`); the pure step that
makes one is `reconciler.planner.build_plan`; `observe_and_plan` here is the stage that reads AWS
and then builds it, which `reconciler plan` and the state machine's `Plan` state
(`reconciler.handlers.plan`) run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from reconciler import aws_errors
from reconciler.context import Context
from reconciler.errors import PermanentError, ReconcilerError, TemporaryError
from reconciler.kinds import KINDS
from reconciler.kinds import engines as all_engines
from reconciler.kinds.base import KindEngine, Progress
from reconciler.kinds.reading import concurrently
from reconciler.loader import EnvironmentManifests
from reconciler.outcome import ChangeResult, Decision, Outcome, Status, status_of
from reconciler.plan import Action, Change, Observed, Plan
from reconciler.planner import Observation, build_plan

if TYPE_CHECKING:
    from reconciler.aws import Clients

#: Changes applied at once within one kind (each to a different resource); the clients' pacer
#: holds them to the write quotas.
APPLY_WORKERS = 16


def _quiet(_: str) -> None:
    return None


def clients_for(manifests: EnvironmentManifests) -> Clients:
    """The environment's clients, paced to AWS's quotas."""
    from reconciler.aws import Clients

    spec = manifests.environment.spec
    return Clients(spec.region, role_arn=spec.assume_role_arn)


def check_account(aws: Clients, manifests: EnvironmentManifests) -> None:
    """Stop before reading or changing anything when the credentials are for another account."""
    expected = manifests.environment.spec.account
    try:
        actual = aws.sts.get_caller_identity()["Account"]
    except Exception as exc:
        if not aws_errors.is_aws_error(exc):
            raise
        kind = TemporaryError if aws_errors.transient(exc) else PermanentError
        raise kind(f"cannot tell which AWS account the credentials are for: {exc}") from exc
    if actual != expected:
        raise PermanentError(
            f"the credentials are for account {actual}, but environment '{manifests.name}' "
            f"declares account {expected}; nothing was read or changed"
        )


def observe(
    aws: Clients,
    manifests: EnvironmentManifests,
    engines: Mapping[str, KindEngine] | None = None,
    progress: Progress = _quiet,
) -> Observation:
    """Read every declared resource (and, with prune on, every owned one): the kinds in parallel,
    and each kind's resources in parallel within it, every call paced to its AWS quota."""
    engines = engines or all_engines()
    context = Context.of(manifests)
    prune = manifests.environment.spec.prune
    declared: dict[str, list[Any]] = {}
    for manifest in manifests.resources:
        declared.setdefault(manifest.kind, []).append(manifest)
    kinds = [kind for kind in engines if kind in declared or (prune and engines[kind].prunable)]
    for kind in kinds:  # from this thread, so that the lines never interleave
        if declared.get(kind):
            progress(f"observing {len(declared[kind])} {kind}")

    def read(kind: str) -> tuple[str, dict[str, Observed], dict[str, Observed]]:
        # A read that may pass by itself leaves an engine as TemporaryError (the base engine's
        # boundary): the CLI says so, Step Functions retries.
        engine = engines[kind]
        owned = prune and engine.prunable
        return kind, *engine.read(aws, declared.get(kind, []), context, owned=owned)

    with ThreadPoolExecutor(max_workers=max(1, len(kinds))) as pool:
        answers = list(pool.map(read, kinds))
    return Observation(
        found={kind: found for kind, found, _ in answers},
        owned={kind: owned for kind, _, owned in answers if owned},
    )


def observe_and_plan(
    aws: Clients,
    manifests: EnvironmentManifests,
    *,
    revision: str | None = None,
    engines: Mapping[str, KindEngine] | None = None,
    progress: Progress = _quiet,
) -> Plan:
    """Observe and plan: what it would take to make AWS match the manifests."""
    engines = engines or all_engines()
    observation = observe(aws, manifests, engines, progress)
    return build_plan(manifests, observation, engines, revision=revision)


def refusal(plan: Plan, manifests: EnvironmentManifests, now: datetime) -> str | None:
    """Why this plan must not be applied at all (blast radius, freeze window), or None."""
    spec = manifests.environment.spec
    writes = len(plan.writes)
    if writes > spec.max_changes_per_run:
        return (
            f"the plan has {writes} changes, more than maxChangesPerRun "
            f"({spec.max_changes_per_run}); refused whole, nothing applied"
        )
    if writes and spec.frozen_at(now):
        return f"{now.isoformat(timespec='minutes')} is inside a freeze window; nothing applied"
    return None


_APPLY_ORDER = {Action.CREATE: 0, Action.UPDATE: 0, Action.DELETE: 1}
#: Beyond every kind's `phase`: where kinds the registry does not know are applied.
_LAST_PHASE = 100


def apply(
    aws: Clients,
    plan: Plan,
    context: Context,
    engines: Mapping[str, KindEngine] | None = None,
    progress: Progress = _quiet,
) -> tuple[ChangeResult, ...]:
    """Carry out every write in the plan, in a safe order; one failure does not stop the rest.

    Order: creates and updates phase by phase (`Kind.phase`: 1 what others run on, such as
    clusters, tables and log groups; 2 what runs, such as functions, services, stages and
    parameters; 3 alarms; 4 budgets), then deletes kind by kind in the reverse order. The kinds
    of one phase depend on none of each other, so their changes run side by side; a kind's
    changes (each to its own resource) run up to `APPLY_WORKERS` at once, paced to the write
    quotas; the next phase starts when all of them have ended. Results come back in kind order.
    """
    engines = engines or all_engines()
    kind_rank = {kind: rank for rank, kind in enumerate(engines)}

    def rank(change: Change) -> int:
        return kind_rank.get(change.kind, len(kind_rank))

    def step(change: Change) -> tuple[int, int]:
        """Creates and updates by the kind's phase (after the known kinds, one step for each
        unknown one); then deletes, one kind at a time in the reverse order."""
        if _APPLY_ORDER[change.action]:
            return (1, -rank(change))
        known = KINDS.get(change.kind)
        return (0, known.phase if known is not None else _LAST_PHASE + rank(change))

    def apply_kind(changes: list[Change]) -> list[ChangeResult]:
        return concurrently(attempt, changes, APPLY_WORKERS)

    def attempt(change: Change) -> ChangeResult:
        try:
            engines[change.kind].apply(aws, change, context)
        except Exception as exc:  # a bug too must not lose the record of the changes made
            if isinstance(exc, ReconcilerError) or aws_errors.is_aws_error(exc):
                return ChangeResult(change, False, _one_line(exc))
            return ChangeResult(change, False, f"{type(exc).__name__}: {_one_line(exc)}")
        return ChangeResult(change, True)

    results: list[ChangeResult] = []
    ordered = sorted(plan.writes, key=lambda change: (*step(change), rank(change)))
    for _, together in groupby(ordered, key=step):
        changes = list(together)
        for change in changes:  # from this thread, so that the lines never interleave
            progress(f"{change.action.value} {change.ref}")
        kinds = [list(same) for _, same in groupby(changes, key=lambda change: change.kind)]
        for answers in concurrently(apply_kind, kinds, len(kinds)):
            results += answers
    return tuple(results)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def decide(
    plan: Plan, manifests: EnvironmentManifests, *, mode: str, now: datetime
) -> tuple[Decision, str | None]:
    """In sync, observe only (the mode, or nothing but blocked drift), refused (blast radius,
    freeze window; the reason comes back) or apply. A refusal is only ever given to a run that
    meant to apply."""
    if plan.in_sync:
        return Decision.IN_SYNC, None
    if not plan.writes or mode != "apply":
        return Decision.OBSERVE, None
    refused = refusal(plan, manifests, now)
    return (Decision.REFUSED, refused) if refused else (Decision.APPLY, None)


def apply_and_verify(
    aws: Clients,
    planned: Plan,
    manifests: EnvironmentManifests,
    *,
    revision: str | None = None,
    engines: Mapping[str, KindEngine] | None = None,
    progress: Progress = _quiet,
) -> tuple[tuple[ChangeResult, ...], Plan | None, str | None]:
    """Apply the plan, then plan again to verify. The results always come back: when verifying
    fails, the verified plan is None and the error says why (the writes are done whatever)."""
    engines = engines or all_engines()
    results = apply(aws, planned, Context.of(manifests), engines, progress)
    progress("verifying")
    try:
        verified = observe_and_plan(aws, manifests, revision=revision, engines=engines)
    except Exception as exc:
        return results, None, f"applied, but verifying failed: {_one_line(exc)}"
    return results, verified, None


def _always(_: Plan) -> bool:
    return True


def reconcile(
    aws: Clients,
    manifests: EnvironmentManifests,
    *,
    apply_changes: bool,
    revision: str | None = None,
    now: datetime | None = None,
    engines: Mapping[str, KindEngine] | None = None,
    progress: Progress = _quiet,
    confirm: Callable[[Plan], bool] = _always,
) -> Outcome:
    """A whole run: account check, plan, and when asked and allowed, apply and verify.

    `confirm` sees the plan after the safety gate and before any write; the CLI asks a person
    there. A declined plan ends the run with nothing applied.
    """
    engines = engines or all_engines()
    check_account(aws, manifests)
    first = observe_and_plan(aws, manifests, revision=revision, engines=engines, progress=progress)
    mode = "apply" if apply_changes else "observe"
    decision, refused = decide(first, manifests, mode=mode, now=now or datetime.now(UTC))
    if decision is not Decision.APPLY:
        return Outcome(first, status_of(first, (), None), refusal=refused)
    if not confirm(first):
        return Outcome(first, status_of(first, (), None), refusal="not confirmed; nothing applied")
    results, verified, error = apply_and_verify(
        aws, first, manifests, revision=revision, engines=engines, progress=progress
    )
    status = Status.FAILED if error else status_of(first, results, verified)
    return Outcome(first, status, None, results, verified, error=error)
