"""The SsmParameter engine against moto: value, type and description; batches of 10 values and
50 descriptions; a SecureString never read, written or deleted; tags never sent with Overwrite;
ownership, create, update, tag and prune."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.aws import Clients
from reconciler.aws_errors import describe
from reconciler.context import Context
from reconciler.errors import PermanentError
from reconciler.kinds.ssm_parameter.engine import ENGINE
from reconciler.kinds.ssm_parameter.model import SsmParameter
from reconciler.plan import OWNER_TAG, Action, Diff, Plan
from tests.builders import apply_each, document_of, plan_with

NAME = "/phoney/dev/RATE_LIMIT_PER_MINUTE"
SECRET = "/phoney/dev/DB_PASSWORD"
SECRET_VALUE = "hunter2-never-read"

parameter = document_of(SsmParameter)


@dataclass
class Recorder:
    """Every SSM and tagging API call the engine's clients make, with its parameters."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def count(self) -> Counter[str]:
        return Counter(name for name, _ in self.calls)

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def naming(self, name: str) -> list[str]:
        """The operations whose request names `name` (as Name, Names or ResourceId)."""
        return [
            operation
            for operation, params in self.calls
            if name in (params.get("Name"), params.get("ResourceId"))
            or name in params.get("Names", ())
        ]


def record(aws: Clients) -> Recorder:
    recorder = Recorder()
    aws.service("ssm").meta.events.register("before-parameter-build.ssm", recorder)
    aws.tagging.meta.events.register("before-parameter-build.resource-groups-tagging-api", recorder)
    return recorder


def make(aws: Clients, name: str, value: str, owner: str | None = None, **extra: Any) -> None:
    tags = [] if owner is None else [{"Key": OWNER_TAG, "Value": owner}]
    aws.service("ssm").put_parameter(
        Name=name, Value=value, Type=extra.pop("Type", "String"), Tags=tags, **extra
    )


def aws_parameter(aws: Clients, name: str) -> dict[str, Any] | None:
    """Type, description and value as AWS has them (None when missing)."""
    ssm = aws.service("ssm")
    found = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    found = [meta for meta in found if meta["Name"] == name]
    if not found:
        return None
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return {
        "type": found[0]["Type"],
        "description": found[0].get("Description"),
        "value": value,
        "version": found[0]["Version"],
    }


def aws_tags(aws: Clients, name: str) -> dict[str, str]:
    listed = aws.service("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return {tag["Key"]: tag["Value"] for tag in listed["TagList"]}


def plan_for(aws: Clients, context: Context, *manifests: SsmParameter, prune: bool = False) -> Plan:
    return plan_with(ENGINE, aws, context, *manifests, prune=prune)


def apply_plan(aws: Clients, context: Context, plan: Plan) -> None:
    apply_each(ENGINE, aws, context, plan)


# --- reading -------------------------------------------------------------------------------------


def test_a_parameter_made_with_aws_defaults_matches_a_minimal_manifest(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="dev")
    manifest = parameter(NAME, value="600")

    observed = ENGINE.observe(aws, [manifest], context)[NAME]

    assert observed.fields == {"value": "600", "type": "String", "description": ""}
    assert observed.tags == {OWNER_TAG: "dev"}
    assert ENGINE.diff(manifest, observed) == []
    assert plan_for(aws, context, manifest).in_sync


def test_a_description_the_manifest_leaves_out_is_not_managed(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="dev", Description="set by hand")

    assert plan_for(aws, context, parameter(NAME, value="600")).in_sync


@pytest.mark.parametrize(
    ("spec", "diff"),
    [
        ({"value": "900"}, Diff(field="value", desired="900", actual="600")),
        (
            {"value": "600", "type": "StringList"},
            Diff(field="type", desired="StringList", actual="String"),
        ),
        (
            {"value": "600", "description": "requests a minute"},
            Diff(field="description", desired="requests a minute", actual="per minute"),
        ),
        (
            {"value": "600", "description": ""},
            Diff(field="description", desired="", actual="per minute"),
        ),
    ],
)
def test_each_field_drift_is_one_diff_in_manifest_spelling(
    aws: Clients, context: Context, spec: dict[str, Any], diff: Diff
) -> None:
    make(aws, NAME, "600", owner="dev", Description="per minute")
    manifest = parameter(NAME, **spec)

    observed = ENGINE.observe(aws, [manifest], context)[NAME]

    assert ENGINE.diff(manifest, observed) == [diff]


def test_a_type_left_out_means_string(aws: Clients, context: Context) -> None:
    make(aws, NAME, "a,b", owner="dev", Type="StringList")
    (change,) = plan_for(aws, context, parameter(NAME, value="a,b")).changes

    assert change.diffs == (Diff(field="type", desired="String", actual="StringList"),)


def test_25_parameters_are_read_in_batches_of_10_values_and_50_descriptions(
    aws: Clients, context: Context
) -> None:
    names = [f"/phoney/dev/KNOB_{i:02}" for i in range(25)]
    for index, name in enumerate(names):
        make(aws, name, str(index), owner="dev")
    recorder = record(aws)

    found = ENGINE.observe(aws, [parameter(n, value="0") for n in names], context)

    assert sorted(found) == names
    assert [found[name].fields["value"] for name in names] == [str(i) for i in range(25)]
    calls = recorder.count()
    assert calls["DescribeParameters"] == 1
    assert calls["GetParameters"] == 3
    assert sorted(len(p["Names"]) for p in recorder.of("GetParameters")) == [5, 10, 10]
    assert calls["ListTagsForResource"] == 25
    assert "GetParameter" not in calls


def test_120_parameters_are_described_50_names_a_call(aws: Clients, context: Context) -> None:
    names = [f"/phoney/dev/KNOB_{i:03}" for i in range(120)]
    for name in names:
        make(aws, name, "1", owner="dev")
    recorder = record(aws)

    found = ENGINE.observe(aws, [parameter(n, value="1") for n in names], context)

    assert len(found) == 120
    describes = recorder.of("DescribeParameters")
    assert sorted(len(p["ParameterFilters"][0]["Values"]) for p in describes) == [20, 50, 50]
    assert recorder.count()["GetParameters"] == 12
    assert all(len(p["Names"]) <= 10 for p in recorder.of("GetParameters"))


def test_a_missing_parameter_is_not_observed(aws: Clients, context: Context) -> None:
    make(aws, "/phoney/dev/OTHER", "1", owner="dev")

    assert ENGINE.observe(aws, [parameter(NAME, value="1")], context) == {}


def test_a_one_level_name_is_found_with_or_without_its_leading_slash(
    aws: Clients, context: Context
) -> None:
    """`solo` and `/solo` are one parameter (ARN `…:parameter/solo`); AWS may answer either."""
    make(aws, "solo", "plain", owner="dev")

    found = ENGINE.observe(aws, [parameter("/solo", value="plain")], context)

    assert found["/solo"].fields["value"] == "plain"
    assert found["/solo"].tags == {OWNER_TAG: "dev"}


# --- SecureString: never read, written or deleted ------------------------------------------------


def test_a_declared_secure_string_is_blocked_and_its_value_never_asked_for(
    aws: Clients, context: Context
) -> None:
    make(aws, SECRET, SECRET_VALUE, owner="dev", Type="SecureString")
    make(aws, NAME, "600", owner="dev")
    recorder = record(aws)
    manifests = [parameter(SECRET, value="whatever"), parameter(NAME, value="900")]

    plan = plan_for(aws, context, *manifests, prune=True)
    apply_plan(aws, context, plan)

    changes = {change.name: change for change in plan.changes}
    assert changes[SECRET].action is Action.BLOCKED
    assert "SecureString" in (changes[SECRET].reason or "")
    assert changes[NAME].action is Action.UPDATE
    assert SECRET_VALUE not in plan.to_json().__repr__()
    assert "GetParameters" not in recorder.naming(SECRET)
    assert "GetParameter" not in recorder.naming(SECRET)
    assert "PutParameter" not in recorder.naming(SECRET)
    assert all(
        op in ("DescribeParameters", "ListTagsForResource") for op in recorder.naming(SECRET)
    )
    assert aws_parameter(aws, SECRET) == {
        "type": "SecureString",
        "description": None,
        "value": SECRET_VALUE,
        "version": 1,
    }


def test_a_parameter_that_became_a_secure_string_after_the_plan_is_not_overwritten(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="dev")
    plan = plan_for(aws, context, parameter(NAME, value="900"))
    assert plan.summary.update == 1
    ssm = aws.service("ssm")
    ssm.delete_parameter(Name=NAME)
    make(aws, NAME, SECRET_VALUE, owner="dev", Type="SecureString")
    recorder = record(aws)

    with pytest.raises(PermanentError, match="SecureString"):
        apply_plan(aws, context, plan)

    assert "PutParameter" not in recorder.naming(NAME)
    assert "GetParameters" not in recorder.naming(NAME)
    assert aws_parameter(aws, NAME) == {
        "type": "SecureString",
        "description": None,
        "value": SECRET_VALUE,
        "version": 1,
    }


def test_prune_never_deletes_or_lists_an_owned_secure_string(
    aws: Clients, context: Context
) -> None:
    make(aws, SECRET, SECRET_VALUE, owner="dev", Type="SecureString")
    recorder = record(aws)

    plan = plan_for(aws, context, prune=True)
    apply_plan(aws, context, plan)

    assert plan.changes == ()
    assert "GetParameters" not in recorder.naming(SECRET)
    assert "DeleteParameter" not in recorder.naming(SECRET)
    assert aws_parameter(aws, SECRET) is not None


# --- writing -------------------------------------------------------------------------------------


def test_a_missing_parameter_is_created_with_tags_and_without_overwrite(
    aws: Clients, context: Context
) -> None:
    manifest = parameter(NAME, value="a,b", type="StringList", description="two items")
    plan = plan_for(aws, context, manifest)
    (change,) = plan.changes
    assert change.action is Action.CREATE
    recorder = record(aws)

    apply_plan(aws, context, plan)

    (put,) = recorder.of("PutParameter")
    assert put["Tags"] == [{"Key": OWNER_TAG, "Value": "dev"}]
    assert "Overwrite" not in put
    assert aws_parameter(aws, NAME) == {
        "type": "StringList",
        "description": "two items",
        "value": "a,b",
        "version": 1,
    }
    assert aws_tags(aws, NAME) == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_a_drifted_parameter_is_overwritten_without_tags_and_keeps_its_description(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="dev", Description="kept")
    aws.service("ssm").add_tags_to_resource(
        ResourceType="Parameter", ResourceId=NAME, Tags=[{"Key": "team", "Value": "api"}]
    )
    manifest = parameter(NAME, value="900")
    plan = plan_for(aws, context, manifest)
    recorder = record(aws)

    apply_plan(aws, context, plan)

    (put,) = recorder.of("PutParameter")
    assert put["Overwrite"] is True
    assert "Tags" not in put
    assert aws_parameter(aws, NAME) == {
        "type": "String",
        "description": "kept",
        "value": "900",
        "version": 2,
    }
    assert aws_tags(aws, NAME) == {OWNER_TAG: "dev", "team": "api"}
    assert plan_for(aws, context, manifest).in_sync


def test_a_string_becomes_a_string_list_with_overwrite(aws: Clients, context: Context) -> None:
    make(aws, NAME, "a,b", owner="dev")
    manifest = parameter(NAME, value="a,b", type="StringList", description="now a list")

    apply_plan(aws, context, plan_for(aws, context, manifest))

    found = aws_parameter(aws, NAME)
    assert found is not None
    assert (found["type"], found["description"]) == ("StringList", "now a list")
    assert plan_for(aws, context, manifest).in_sync


def test_an_untagged_parameter_gets_the_tag_by_add_tags_to_resource_alone(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600")
    manifest = parameter(NAME, value="600")
    (change,) = plan_for(aws, context, manifest).writes
    assert change.diffs == (Diff(field=f"tags.{OWNER_TAG}", desired="dev", actual=None),)
    recorder = record(aws)

    apply_plan(aws, context, plan_for(aws, context, manifest))

    (tagged,) = recorder.of("AddTagsToResource")
    assert (tagged["ResourceType"], tagged["ResourceId"]) == ("Parameter", NAME)
    assert recorder.of("PutParameter") == []
    assert aws_tags(aws, NAME) == {OWNER_TAG: "dev"}
    assert plan_for(aws, context, manifest).in_sync


def test_a_drifted_untagged_parameter_is_overwritten_then_tagged(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600")
    manifest = parameter(NAME, value="900")
    recorder = record(aws)

    apply_plan(aws, context, plan_for(aws, context, manifest))

    assert [op for op, _ in recorder.calls if op in ("PutParameter", "AddTagsToResource")] == [
        "PutParameter",
        "AddTagsToResource",
    ]
    assert all("Tags" not in put for put in recorder.of("PutParameter"))
    assert plan_for(aws, context, manifest).in_sync


def test_a_parameter_owned_by_another_environment_is_blocked(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="prod")

    (change,) = plan_for(aws, context, parameter(NAME, value="900")).changes

    assert change.action is Action.BLOCKED
    assert "owned by environment 'prod'" in (change.reason or "")


def test_a_parameter_retagged_for_another_environment_after_the_plan_is_not_changed(
    aws: Clients, context: Context
) -> None:
    make(aws, NAME, "600", owner="dev")
    plan = plan_for(aws, context, parameter(NAME, value="900"))
    aws.service("ssm").add_tags_to_resource(
        ResourceType="Parameter", ResourceId=NAME, Tags=[{"Key": OWNER_TAG, "Value": "prod"}]
    )

    with pytest.raises(PermanentError, match="owned by environment 'prod'"):
        apply_plan(aws, context, plan)
    found = aws_parameter(aws, NAME)
    assert found is not None and found["value"] == "600"


def test_a_create_whose_parameter_appeared_since_the_plan_is_updated_not_refused(
    aws: Clients, context: Context
) -> None:
    manifest = parameter(NAME, value="900")
    plan = plan_for(aws, context, manifest)
    assert plan.summary.create == 1
    make(aws, NAME, "600")  # made by hand meanwhile, untagged

    apply_plan(aws, context, plan)

    found = aws_parameter(aws, NAME)
    assert found is not None and found["value"] == "900"
    assert aws_tags(aws, NAME) == {OWNER_TAG: "dev"}


def test_a_second_apply_writes_nothing(aws: Clients, context: Context) -> None:
    make(aws, "/phoney/dev/DRIFTED", "1", owner="dev")
    make(aws, "/phoney/dev/UNTAGGED", "1")
    make(aws, "/phoney/dev/STALE", "1", owner="dev")
    manifests = [
        parameter("/phoney/dev/DRIFTED", value="2"),
        parameter("/phoney/dev/UNTAGGED", value="1"),
        parameter("/phoney/dev/NEW", value="1"),
    ]
    first = plan_for(aws, context, *manifests, prune=True)
    assert first.summary.model_dump() == {
        "create": 1,
        "update": 2,
        "delete": 1,
        "noop": 0,
        "blocked": 0,
    }
    apply_plan(aws, context, first)
    recorder = record(aws)

    second = plan_for(aws, context, *manifests, prune=True)
    apply_plan(aws, context, second)

    assert second.in_sync
    writes = {"PutParameter", "AddTagsToResource", "DeleteParameter"}
    assert not writes & set(recorder.count())


# --- prune ---------------------------------------------------------------------------------------


def test_prune_deletes_only_owned_undeclared_parameters(aws: Clients, context: Context) -> None:
    make(aws, "/phoney/dev/KEPT", "1", owner="dev")
    make(aws, "/phoney/dev/STALE", "1", owner="dev")
    make(aws, "/phoney/prod/THEIRS", "1", owner="prod")
    make(aws, "/phoney/dev/NOBODYS", "1")
    kept = parameter("/phoney/dev/KEPT", value="1")
    plan = plan_for(aws, context, kept, prune=True)
    assert [(c.name, c.action) for c in plan.writes] == [("/phoney/dev/STALE", Action.DELETE)]
    recorder = record(aws)

    apply_plan(aws, context, plan)

    assert aws_parameter(aws, "/phoney/dev/STALE") is None
    for name in ("/phoney/dev/KEPT", "/phoney/prod/THEIRS", "/phoney/dev/NOBODYS"):
        assert aws_parameter(aws, name) is not None
    # the owner was read again, by name, before the delete
    assert recorder.naming("/phoney/dev/STALE")[-2:] == ["ListTagsForResource", "DeleteParameter"]
    assert plan_for(aws, context, kept, prune=True).in_sync


def test_owned_parameters_come_from_the_tagging_api(aws: Clients, context: Context) -> None:
    make(aws, "/phoney/dev/A", "1", owner="dev")
    make(aws, "/phoney/dev/B", "x,y", owner="dev", Type="StringList", Description="b")
    make(aws, "/phoney/prod/C", "1", owner="prod")
    make(aws, "/phoney/dev/D", "1")
    recorder = record(aws)

    owned = ENGINE.owned(aws, context)

    assert sorted(owned) == ["/phoney/dev/A", "/phoney/dev/B"]
    assert owned["/phoney/dev/B"].fields == {
        "value": "x,y",
        "type": "StringList",
        "description": "b",
    }
    (listing,) = recorder.of("GetResources")
    assert listing["ResourceTypeFilters"] == ["ssm:parameter"]
    assert listing["TagFilters"] == [{"Key": OWNER_TAG, "Values": ["dev"]}]
    assert recorder.count()["ListTagsForResource"] == 0


def test_a_prune_read_takes_the_declared_parameters_tags_from_the_tag_pass(
    aws: Clients, context: Context
) -> None:
    names = [f"/phoney/dev/KNOB_{i:02}" for i in range(12)]
    for name in names:
        make(aws, name, "1", owner="dev")
    make(aws, "/phoney/dev/UNTAGGED", "1")
    declared = [parameter(n, value="1") for n in [*names, "/phoney/dev/UNTAGGED"]]
    recorder = record(aws)

    found, owned = ENGINE.read(aws, declared, context, owned=True)

    assert sorted(owned) == names
    assert found["/phoney/dev/UNTAGGED"].tags == {}
    assert recorder.naming("/phoney/dev/UNTAGGED").count("ListTagsForResource") == 1
    assert recorder.count() == {
        "DescribeParameters": 1,
        "GetResources": 1,
        "GetParameters": 2,
        "ListTagsForResource": 1,
    }


def test_prune_keeps_a_one_level_parameter_declared_with_the_other_spelling(
    aws: Clients, context: Context
) -> None:
    make(aws, "solo", "1", owner="dev")
    make(aws, "/phoney/dev/STALE", "1", owner="dev")
    manifest = parameter("/solo", value="1")

    found, owned = ENGINE.read(aws, [manifest], context, owned=True)  # as the pipeline reads

    assert ENGINE.diff(manifest, found["/solo"]) == []
    assert sorted(owned) == ["/phoney/dev/STALE", "/solo"]


def test_an_error_that_quotes_the_value_never_shows_it(aws: Clients, context: Context) -> None:
    """AWS's ValidationException quotes what it refused; the error people read says <value>."""
    value = "https://internal.example.com/very/long/configuration/value"
    manifest = parameter(NAME, value=value)
    plan = plan_for(aws, context, manifest)

    def refuse(params: dict[str, Any], **_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "ValidationException",
                    "Message": f"1 validation error detected: Value '{params['Value']}' at "
                    "'value' failed to satisfy constraint",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "PutParameter",
        )

    aws.service("ssm").meta.events.register("before-parameter-build.ssm.PutParameter", refuse)
    with pytest.raises(ClientError) as raised:
        apply_plan(aws, context, plan)

    assert value not in str(raised.value)
    assert value not in describe(raised.value)
    assert "Value '<value>' at 'value'" in describe(raised.value)
