"""The base engine: the rules that protect users, written once for every kind.

Powertools' idempotency layer is the model: `BasePersistenceLayer` holds every policy and each
backend writes four primitives. Here `Engine` holds the policy of reading and writing AWS, and a
kind (`reconciler/kinds/<kind>/engine.py`) writes the primitives:

    fetch       read the declared (and, with prune, the owned) resources in batches
    desired     the manifest's managed fields, normalised as `fetch` normalises AWS's
    read_one    one resource as it is now, with its tags (None when it does not exist)
    create      make a resource, tagged            (kinds that are created)
    update      write the field groups that differ from `read_one`'s answer
    tag         add the ownership tag
    delete      delete a resource                  (kinds that are pruned)
    pending     what a resource is still busy with (kinds whose writes take a while)
    failed      why the change it was busy with failed (asked while waiting for it)

The policy, which no kind repeats:

- **The owner is read again just before every write**, the plan may be minutes old. A resource
  another environment owns by then is refused with the one sentence of `reconciler.ownership`
  (and one its kind refuses, `Current.refusal`, likewise); prune deletes only a resource that
  carries this environment's tag at that moment.
- **Apply branches on the change's action and its desired state only**, never on the plan's
  diffs: `update` compares the desired state with the fresh read, so a change applied twice writes
  nothing the second time, and a create whose resource exists by now (made since the plan, or a
  create re-sent after its answer was lost) carries on as an update.
- **The ownership tag** goes on with a create, and after the other writes of an update.
- **Errors are translated** at one boundary (`reconciler.aws_errors.translated`): throttling,
  AWS failures and busy resources become `TemporaryError`, so the state machine retries them.
- **Waiting**: a write to a busy resource waits until it has settled (`pending`), a call refused
  because the resource is busy is retried with backoff (`call`), and the writes of a kind whose
  changes take a while (`waits`) are waited on before apply returns, so that a verify run right
  after sees the result.

Engines never build AWS clients: they receive `Clients` and take their service's client from it
(`client`), so tests hand in moto-backed ones and benchmarks counting ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from reconciler import ownership
from reconciler.aws_errors import Failure, failure, translated
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.compare import compare
from reconciler.plan import Action, Change, Diff, Observed
from reconciler.planner import KindRules

if TYPE_CHECKING:
    from reconciler.aws import Clients
    from reconciler.context import Context
    from reconciler.kinds.description import Kind
    from reconciler.model import Manifest

S = TypeVar("S")
T = TypeVar("T")

#: Found (declared resources that exist) and owned (resources tagged for the environment), by name.
Reading = tuple[dict[str, Observed], dict[str, Observed]]

#: Reports progress to a person ("observing 300 functions…"); the CLI prints it to stderr.
Progress = Callable[[str], None]


class KindEngine(KindRules, Protocol):
    """How the pipeline observes, compares and changes one kind of AWS resource: the rules the
    planner compares with, and reading and writing AWS."""

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared resources that exist and, with `owned`, those tagged for the
        environment, sharing the calls the two have in common: what a run calls, once per kind."""
        ...

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Carry out one create, update or delete, including the ownership tag; raise on failure."""
        ...


@dataclass(frozen=True)
class Current(Generic[S]):
    """One resource as AWS has it just before a write: its tags, and whatever else the kind read
    with them (`state`), which `update`, `tag` and `delete` get back. `refusal`, as in
    `Observed`, says why it must be left alone although it exists."""

    name: str
    tags: Mapping[str, str]
    state: S
    refusal: str | None = None


@dataclass(frozen=True)
class Busy:
    """What a resource is still doing (`updating`), from a probe that `Engine.wait` asks again."""

    doing: str


@dataclass(frozen=True)
class Engine(Generic[S]):
    """The policy every kind's engine inherits; see the module's docstring. A subclass sets
    `description` and writes the primitives; the fields are how long and how often it waits
    (tests hand in a recording `sleep`) and how many reads it sends at once."""

    #: The kind's own description (`reconciler/kinds/<kind>/__init__.py`).
    description: ClassVar[Kind]
    #: Its writes leave the resource busy for a while (a cluster `modifying`): apply waits until
    #: `pending` says it has settled before it returns.
    waits: ClassVar[bool] = False

    sleep: Callable[[float], None] = time.sleep
    #: Calls in flight at once; the pacer, not this, holds them to the quotas.
    workers: int = 8
    poll_seconds: float = 2.0
    #: How long a write may keep a resource busy before apply gives up for now.
    update_wait_seconds: float = 600.0
    #: How often a call refused because the resource is busy is sent again (with backoff).
    conflict_retries: int = 5

    @property
    def kind(self) -> str:
        return self.description.name

    @property
    def noun(self) -> str:
        return self.description.noun

    @property
    def creatable(self) -> bool:
        return self.description.creatable

    @property
    def prunable(self) -> bool:
        return self.description.prunable

    # --- observing ------------------------------------------------------------------------------

    def read(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared resources that exist and, with `owned` (prunable kinds only), those
        tagged for the environment; a read that may pass by itself raises `TemporaryError`."""
        owned = owned and self.prunable
        if not manifests and not owned:
            return {}, {}
        with translated(self.kind):
            return self.fetch(aws, manifests, context, owned=owned)

    def observe(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context
    ) -> dict[str, Observed]:
        """The declared resources that exist, by name; absent ones are left out."""
        return self.read(aws, manifests, context, owned=False)[0]

    def owned(self, aws: Clients, context: Context) -> dict[str, Observed]:
        """Every resource of this kind tagged for `context.environment` (none unless pruned)."""
        return self.read(aws, [], context, owned=True)[1]

    def diff(self, manifest: Manifest, observed: Observed) -> list[Diff]:
        """The declared fields that differ; a kind managed whole compares more."""
        return compare(self.desired(manifest), observed.fields)

    # --- applying -------------------------------------------------------------------------------

    def apply(self, aws: Clients, change: Change, context: Context) -> None:
        """Carry out one change under the rules in the module's docstring; raise on failure."""
        ref = change.ref
        if change.action not in self._actions():
            raise PermanentError(
                f"{ref}: the reconciler only {self._verbs()} {self.noun} "
                f"(got {change.action.value})"
            )
        with translated(ref):
            current = self._read_mine(aws, change.name, context, ref)
            if change.action is Action.DELETE:
                self._delete(aws, current, context)
                return
            if change.desired is None:
                raise PermanentError(f"{ref}: nothing to apply for a {change.action.value} change")
            if current is None:
                if change.action is not Action.CREATE:
                    again = "; plan again to create it" if self.creatable else ""
                    raise PermanentError(f"{ref} does not exist{again}")
                current = self._create(aws, change, change.desired, context)
                if current is None:
                    return
            self._update(aws, current, change.desired, context, ref)

    def _actions(self) -> frozenset[Action]:
        creates = {Action.CREATE} if self.creatable else set()
        deletes = {Action.DELETE} if self.prunable else set()
        return frozenset({Action.UPDATE, *creates, *deletes})

    def _verbs(self) -> str:
        verbs = [
            verb
            for verb, allowed in (
                ("creates", self.creatable),
                ("updates", True),
                ("deletes", self.prunable),
            )
            if allowed
        ]
        return " and ".join([", ".join(verbs[:-1]), verbs[-1]] if len(verbs) > 1 else verbs)

    def _read_mine(self, aws: Clients, name: str, context: Context, ref: str) -> Current[S] | None:
        """The resource as it is now, once it is not busy; refused when another environment
        owns it."""
        current = self.read_one(aws, name, context)
        if current is None:
            return None
        self._refuse_unless_mine(current, context, ref)
        if self.pending(current) is not None:
            current = self.settle(aws, name, context, ref)
            self._refuse_unless_mine(current, context, ref)
        return current

    @staticmethod
    def _refuse_unless_mine(current: Current[S], context: Context, ref: str) -> None:
        refused = ownership.refusal(current.tags, context.environment)
        if refused is not None:
            raise PermanentError(f"{ref} is {refused}")
        if current.refusal is not None:
            raise PermanentError(f"{ref}: {current.refusal}; not changed")

    def _delete(self, aws: Clients, current: Current[S] | None, context: Context) -> None:
        """Delete only what carries this environment's tag now; gone already is done."""
        if current is None or ownership.owner(current.tags) != context.environment:
            return
        try:
            self.delete(aws, current, context)
        except Exception as exc:
            if failure(exc) is not Failure.MISSING:  # a delete re-sent after its answer was lost
                raise

    def _create(
        self, aws: Clients, change: Change, desired: dict[str, Any], context: Context
    ) -> Current[S] | None:
        """Create the resource with its tag; when it exists by now, the resource to update."""
        try:
            self.create(aws, change.name, desired, context, ownership.tags_for(context.environment))
        except Exception as exc:
            if failure(exc) is not Failure.EXISTS:
                raise
            current = self._read_mine(aws, change.name, context, change.ref)
            if current is None:
                raise
            return current
        if self.waits:
            self.settle(aws, change.name, context, change.ref)
        return None

    def _update(
        self,
        aws: Clients,
        current: Current[S],
        desired: dict[str, Any],
        context: Context,
        ref: str,
    ) -> None:
        wrote = self.update(aws, current, desired, context)
        if ownership.owner(current.tags) is None:
            self.tag(aws, current, context, ownership.tags_for(context.environment))
        if wrote and self.waits:
            self.settle(aws, current.name, context, ref)

    # --- waiting --------------------------------------------------------------------------------

    def call(
        self, operation: Callable[..., Any], /, *, missing_ok: bool = False, **kwargs: Any
    ) -> Any:
        """One AWS call; refused because the resource is busy, it is sent again after
        `poll_seconds`, then twice as long each time, `conflict_retries` times at most.

        With `missing_ok`, a missing resource (or part of one) answers None instead of raising.
        """
        for attempt in range(self.conflict_retries + 1):
            try:
                return operation(**kwargs)
            except Exception as exc:
                what = failure(exc)
                if missing_ok and what is Failure.MISSING:
                    return None
                if what is not Failure.CONFLICT or attempt == self.conflict_retries:
                    raise
                self.sleep(self.poll_seconds * 2**attempt)
        raise AssertionError("unreachable")

    def wait(self, ref: str, probe: Callable[[], T | Busy], seconds: float | None = None) -> T:
        """Ask `probe` every `poll_seconds` until it answers something other than `Busy`, for
        `seconds` at most (`update_wait_seconds`); then `TemporaryError`: the state machine
        retries the state, which finds the work done or waits again."""
        limit = self.update_wait_seconds if seconds is None else seconds
        busy = Busy("changing")
        for _ in range(max(1, math.ceil(limit / self.poll_seconds))):
            found = probe()
            if not isinstance(found, Busy):
                return found
            busy = found
            self.sleep(self.poll_seconds)
        raise TemporaryError(f"{ref}: still {busy.doing} after {limit:.0f} s; retry later")

    def settle(self, aws: Clients, name: str, context: Context, ref: str) -> Current[S]:
        """The resource once `pending` says it is no longer busy."""

        def probe() -> Current[S] | Busy:
            current = self.read_one(aws, name, context)
            if current is None:
                raise PermanentError(f"{ref} disappeared while being changed")
            failed = self.failed(current)
            if failed is not None:
                raise PermanentError(f"{ref}: {failed}")
            doing = self.pending(current)
            return current if doing is None else Busy(doing)

        return self.wait(ref, probe)

    def client(self, aws: Clients) -> Any:
        """The client of the kind's own service."""
        return aws.service(self.description.service.name)

    # --- primitives a kind writes ---------------------------------------------------------------

    def fetch(
        self, aws: Clients, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        """The declared resources that exist (fields normalised, tags) and, with `owned`, every
        resource tagged for the environment, in as few calls as AWS allows."""
        raise NotImplementedError

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        """The managed fields in manifest spelling, normalised as `fetch` normalises AWS's."""
        raise NotImplementedError

    def read_one(self, aws: Clients, name: str, context: Context) -> Current[S] | None:
        """One resource as it is now, with its tags; None when it does not exist."""
        raise NotImplementedError

    def create(
        self,
        aws: Clients,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        """Make the resource, carrying `tags` (kinds that are created)."""
        raise NotImplementedError

    def update(
        self, aws: Clients, current: Current[S], desired: dict[str, Any], context: Context
    ) -> bool:
        """Write the field groups of `desired` that differ from `current`; whether it wrote."""
        raise NotImplementedError

    def tag(
        self, aws: Clients, current: Current[S], context: Context, tags: Mapping[str, str]
    ) -> None:
        """Add `tags` to the resource."""
        raise NotImplementedError

    def delete(self, aws: Clients, current: Current[S], context: Context) -> None:
        """Delete the resource (kinds that are pruned)."""
        raise NotImplementedError

    def pending(self, current: Current[S]) -> str | None:
        """What the resource is still busy with (`updating`), or None when it can take a write."""
        return None

    def failed(self, current: Current[S]) -> str | None:
        """Why AWS says the change that kept the resource busy failed, or None; asked while
        waiting for it to settle."""
        return None
