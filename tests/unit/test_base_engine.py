"""The base engine's rules, once, on an in-memory kind: what every kind inherits.

`Shelf` keeps its resources in a dict and answers like AWS would (a create of one that exists
is `ResourceAlreadyExistsException`, a write to a busy one `ResourceConflictException`, …), so
each rule of `reconciler.kinds.base` is seen without any AWS at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ClientError

from reconciler.context import Context
from reconciler.errors import PermanentError, TemporaryError
from reconciler.kinds.base import Current, Engine, Reading
from reconciler.kinds.description import Kind
from reconciler.model import Manifest
from reconciler.ownership import OWNER_TAG
from reconciler.plan import Action, Change, Observed

CONTEXT = Context("dev", "123456789012", "us-east-1")


def answer(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "as AWS says"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Write",
    )


@dataclass
class Item:
    fields: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    busy: int = 0  # the busy-th read from now finds it settled
    refusal: str | None = None


@dataclass(frozen=True)
class Shelf(Engine[Item]):
    """A kind held in `items`; `log` records every write; `refuse` answers the next writes."""

    description: ClassVar[Kind] = Kind(
        "Shelf", Manifest, lambda _: [], noun="shelves", engine="-", creatable=True, prunable=True
    )
    items: dict[str, Item] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    refuse: list[ClientError] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)
    poll_seconds: float = 1.0
    update_wait_seconds: float = 3.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sleep", self.slept.append)

    def _write(self, what: str) -> None:
        if self.refuse:
            raise self.refuse.pop(0)
        self.log.append(what)

    def fetch(
        self, aws: Any, manifests: Sequence[Manifest], context: Context, *, owned: bool
    ) -> Reading:
        return {}, {}

    def desired(self, manifest: Manifest) -> dict[str, Any]:
        return {}

    def read_one(self, aws: Any, name: str, context: Context) -> Current[Item] | None:
        item = self.items.get(name)
        if item is None:
            return None
        if item.busy:
            item.busy -= 1
        return Current(name, dict(item.tags), item, item.refusal)

    def pending(self, current: Current[Item]) -> str | None:
        return "settling" if current.state.busy else None

    def create(
        self,
        aws: Any,
        name: str,
        desired: dict[str, Any],
        context: Context,
        tags: Mapping[str, str],
    ) -> None:
        if name in self.items:
            raise answer("ResourceAlreadyExistsException")
        self._write(f"create {name}")
        self.items[name] = Item(dict(desired), dict(tags))

    def update(
        self, aws: Any, current: Current[Item], desired: dict[str, Any], context: Context
    ) -> bool:
        if current.state.fields == desired:
            return False
        self.call(self._write, what=f"update {current.name}")
        current.state.fields = dict(desired)
        return True

    def tag(
        self, aws: Any, current: Current[Item], context: Context, tags: Mapping[str, str]
    ) -> None:
        self._write(f"tag {current.name}")
        current.state.tags.update(tags)

    def delete(self, aws: Any, current: Current[Item], context: Context) -> None:
        self._write(f"delete {current.name}")
        self.items.pop(current.name, None)


def change(action: Action, name: str = "a", **desired: Any) -> Change:
    return Change(
        kind="Shelf", name=name, action=action, desired=None if action is Action.DELETE else desired
    )


def test_an_update_writes_what_differs_from_aws_now_and_tags_last() -> None:
    shelf = Shelf(items={"a": Item({"size": 1})})
    shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert shelf.log == ["update a", "tag a"]
    shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)  # applied twice: nothing to write
    assert shelf.log == ["update a", "tag a"]


def test_a_resource_owned_elsewhere_by_now_is_refused_with_the_one_sentence() -> None:
    shelf = Shelf(items={"a": Item({"size": 1}, {OWNER_TAG: "prod"})})
    for action in (Action.UPDATE, Action.CREATE):
        with pytest.raises(PermanentError) as refused:
            shelf.apply(None, change(action, size=2), CONTEXT)
        assert str(refused.value) == (
            f"Shelf/a is owned by environment 'prod' (tag {OWNER_TAG}=prod); not changed"
        )
    assert shelf.log == []


def test_a_create_that_finds_the_resource_carries_on_as_an_update() -> None:
    shelf = Shelf()
    shelf.apply(None, change(Action.CREATE, size=1), CONTEXT)
    assert shelf.items["a"].tags == {OWNER_TAG: "dev"}
    shelf.items["b"] = Item({"size": 1})  # made since the plan, untagged
    shelf.apply(None, change(Action.CREATE, "b", size=1), CONTEXT)
    assert shelf.log == ["create a", "tag b"]


def test_prune_deletes_only_what_carries_this_environments_tag_now() -> None:
    shelf = Shelf(items={"mine": Item({}, {OWNER_TAG: "dev"}), "nobodys": Item({})})
    shelf.apply(None, change(Action.DELETE, "nobodys"), CONTEXT)
    shelf.apply(None, change(Action.DELETE, "gone"), CONTEXT)
    shelf.apply(None, change(Action.DELETE, "mine"), CONTEXT)
    assert shelf.log == ["delete mine"]


def test_a_delete_that_finds_the_resource_gone_is_done() -> None:
    shelf = Shelf(
        items={"a": Item({}, {OWNER_TAG: "dev"})}, refuse=[answer("ResourceNotFoundException", 404)]
    )
    shelf.apply(None, change(Action.DELETE), CONTEXT)


def test_an_update_of_a_resource_gone_since_the_plan_fails_for_good() -> None:
    with pytest.raises(PermanentError, match="Shelf/a does not exist; plan again to create it"):
        Shelf().apply(None, change(Action.UPDATE, size=1), CONTEXT)


def test_a_busy_resource_is_waited_for_then_written() -> None:
    shelf = Shelf(items={"a": Item({"size": 1}, {OWNER_TAG: "dev"}, busy=3)})
    shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert shelf.slept == [1.0]  # read 1 (before the write) and 2 busy, read 3 settled
    assert shelf.log == ["update a"]


def test_a_resource_busy_too_long_is_a_temporary_error() -> None:
    shelf = Shelf(items={"a": Item({"size": 1}, {OWNER_TAG: "dev"}, busy=99)})
    with pytest.raises(TemporaryError, match="Shelf/a: still settling after 3 s; retry later"):
        shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert shelf.log == []


def test_a_write_refused_while_busy_is_sent_again_with_backoff_then_given_up() -> None:
    shelf = Shelf(
        items={"a": Item({"size": 1}, {OWNER_TAG: "dev"})},
        refuse=[answer("ResourceConflictException", 409)] * 2,
    )
    shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert (shelf.slept, shelf.log) == ([1.0, 2.0], ["update a"])
    stuck = Shelf(
        items={"a": Item({"size": 1}, {OWNER_TAG: "dev"})},
        refuse=[answer("ResourceConflictException", 409)] * 9,
    )
    with pytest.raises(TemporaryError, match="still busy with another change") as raised:
        stuck.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert isinstance(raised.value.__cause__, ClientError)
    assert len(stuck.slept) == stuck.conflict_retries


def test_throttling_becomes_temporary_and_a_refusal_stays_as_aws_said_it() -> None:
    throttled = Shelf(
        items={"a": Item({"size": 1}, {OWNER_TAG: "dev"})}, refuse=[answer("ThrottlingException")]
    )
    with pytest.raises(TemporaryError, match="Shelf/a: AWS is throttling requests"):
        throttled.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    denied = Shelf(
        items={"a": Item({"size": 1}, {OWNER_TAG: "dev"})},
        refuse=[answer("AccessDeniedException", 403)],
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        denied.apply(None, change(Action.UPDATE, size=2), CONTEXT)


def test_a_resource_its_kind_refuses_is_never_written() -> None:
    shelf = Shelf(items={"a": Item({"size": 1}, refusal="a SecureString is never overwritten")})
    with pytest.raises(
        PermanentError, match="Shelf/a: a SecureString is never overwritten; not changed"
    ):
        shelf.apply(None, change(Action.UPDATE, size=2), CONTEXT)
    assert shelf.log == []


@dataclass(frozen=True)
class Drawer(Shelf):
    """A kind that is updated only."""

    description: ClassVar[Kind] = Kind("Drawer", Manifest, lambda _: [], noun="drawers", engine="-")


def test_actions_a_kind_does_not_take_are_refused_before_any_read() -> None:
    drawer = Drawer()
    for action in (Action.CREATE, Action.DELETE):
        with pytest.raises(PermanentError, match=r"only updates drawers \(got "):
            drawer.apply(None, Change(kind="Drawer", name="a", action=action, desired={}), CONTEXT)
    assert drawer.owned(None, CONTEXT) == {}


def test_the_planner_blocks_a_resource_its_kind_refuses() -> None:
    from reconciler.kinds.lambda_function.engine import ENGINE
    from reconciler.kinds.lambda_function.model import LambdaFunction
    from reconciler.planner import Observation, build_plan
    from tests.builders import document_of, environment_of

    manifests = environment_of(document_of(LambdaFunction)("api", memoryMb=512))
    observed = Observed("api", {"memoryMb": 256}, {OWNER_TAG: "dev"}, refusal="it is special")
    plan = build_plan(
        manifests,
        Observation(found={"LambdaFunction": {"api": observed}}),
        {"LambdaFunction": ENGINE},
    )
    (blocked,) = plan.changes
    assert (blocked.action, blocked.reason) == (Action.BLOCKED, "it is special")
