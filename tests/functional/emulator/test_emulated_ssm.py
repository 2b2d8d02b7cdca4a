"""SSM Parameter Store as the emulator keeps it, driven by boto3.

Sources: the botocore model ``ssm/2014-11-06`` (``DescribeParameters.MaxResults`` 1 to 50,
``GetParameters.Names`` at most 10, ``PutParameter.Tags``: "To add tags to an existing Systems
Manager parameter, use the AddTagsToResource operation") and AWS's answer to ``Tags`` with
``Overwrite``, "Invalid request: tags and overwrite can't be used together. To create a parameter
with tags, please remove overwrite flag. To update tags for an existing parameter, please use
AddTagsToResource or RemoveTagsFromResource."
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

TAGS = [{"Key": "reconciler:environment", "Value": "dev"}]


@pytest.fixture
def ssm(emulated: None) -> SSMClient:
    return boto3.client("ssm", region_name="us-east-1")


@pytest.mark.parametrize("exists", [False, True])
def test_tags_and_overwrite_together_are_refused(ssm: SSMClient, exists: bool) -> None:
    if exists:
        ssm.put_parameter(Name="/app/KNOB", Value="1", Type="String")

    with pytest.raises(ClientError) as refused:
        ssm.put_parameter(Name="/app/KNOB", Value="2", Type="String", Overwrite=True, Tags=TAGS)

    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("Invalid request: tags and overwrite can't be used together")
    versions = ssm.describe_parameters()["Parameters"]
    assert [p["Version"] for p in versions] == ([1] if exists else [])


def test_tags_on_create_and_add_tags_to_resource_afterwards(ssm: SSMClient) -> None:
    ssm.put_parameter(Name="/app/KNOB", Value="1", Type="String", Tags=TAGS)
    ssm.put_parameter(Name="/app/KNOB", Value="2", Type="String", Overwrite=True)
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/app/KNOB", Tags=[{"Key": "team", "Value": "a"}]
    )

    listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/app/KNOB")
    assert {t["Key"]: t["Value"] for t in listed["TagList"]} == {
        "reconciler:environment": "dev",
        "team": "a",
    }


def test_describe_parameters_pages_of_max_results(ssm: SSMClient) -> None:
    names = [f"/app/KNOB_{i:02}" for i in range(60)]
    for name in names:
        ssm.put_parameter(Name=name, Value="1", Type="String")
    name_filter = [{"Key": "Name", "Option": "Equals", "Values": names[:50]}]

    first = ssm.describe_parameters(ParameterFilters=name_filter, MaxResults=50)
    unpaged = ssm.describe_parameters(ParameterFilters=name_filter)
    small = ssm.describe_parameters(MaxResults=25)
    rest = ssm.describe_parameters(MaxResults=25, NextToken=small["NextToken"])
    last = ssm.describe_parameters(MaxResults=25, NextToken=rest["NextToken"])

    assert len(first["Parameters"]) == 50 and "NextToken" not in first
    assert len(unpaged["Parameters"]) == 10 and "NextToken" in unpaged  # moto's default page
    assert [len(page["Parameters"]) for page in (small, rest, last)] == [25, 25, 10]
    assert "NextToken" not in last
    seen = [p["Name"] for page in (small, rest, last) for p in page["Parameters"]]
    assert sorted(seen) == names


def test_get_parameters_takes_at_most_ten_names(ssm: SSMClient) -> None:
    with pytest.raises(ClientError, match="less than or equal to 10"):
        ssm.get_parameters(Names=[f"/app/KNOB_{i}" for i in range(11)])
