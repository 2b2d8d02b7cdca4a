"""CloudWatch Logs log groups as AWS answers for them: lookups by name, ARNs, retention values.

moto keeps log groups, their retention and their tags, but is more lenient than AWS in three
ways that would hide a reconciler's mistakes; these rules (switch ``Behaviour.logs_rules``)
follow the botocore model ``logs/2014-03-28`` and AWS's answers as users quote them:

- ``DescribeLogGroups(logGroupIdentifiers=[…])`` lists only those groups (moto ignored the
  parameter and listed every group). The list takes 1 to 50 items (shape
  ``DescribeLogGroupsLogGroupIdentifiers``) and "the only other filter that you can choose to
  specify is includeLinkedAccounts": with ``logGroupNamePrefix`` or ``logGroupNamePattern`` ->
  ``InvalidParameterException``. In an account that is not a monitoring account the identifiers
  are log group names.
- ``ListTagsForResource``, ``TagResource`` and ``UntagResource`` of a log group take its ARN
  without the trailing ``:*`` (model: ``LogGroup.logGroupArn``, "Use this version … in the
  resourceArn field in tagging APIs"). The ``:*`` form that ``DescribeLogGroups`` answers as
  ``arn`` -> 400 ``ValidationException`` "Invalid resourceArn" (AWS's answer, quoted in
  boto/boto3#4104 and open-telemetry/opentelemetry-collector-contrib#49419); moto answered an
  empty tag list, so a reconciler using it would find every group untagged. The ARN of a group
  that does not exist -> ``ResourceNotFoundException`` (the operations' modelled error; moto
  answered an empty list, or kept tags for a group that was never made).
- ``PutRetentionPolicy`` takes only the documented numbers of days (shape ``Days``: 1, 3, 5, 7,
  14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
  -> ``InvalidParameterException`` otherwise (moto stored any number).
"""

from __future__ import annotations

import json
from typing import Any, Final

from moto.logs.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    ValidationException,
)
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse

from reconciler.emulator.settings import current

_MARKER: Final = "_reconciler_emulator_logs"
#: The retention values PutRetentionPolicy takes (botocore shape `Days`).
RETENTION_DAYS: Final = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip
IDENTIFIERS_MAX: Final = 50


def _log_group_name(arn: str) -> str | None:
    """The name in a log group ARN (``arn:aws:logs:<region>:<account>:log-group:<name>``)."""
    parts = arn.split(":", 6)
    return parts[6] if len(parts) == 7 and parts[5] == "log-group" else None


def _check_tagged_group(backend: LogsBackend, arn: str) -> None:
    """The tagging operations' rules for a log group ARN (module doc)."""
    name = _log_group_name(arn)
    if name is None or not current().logs_rules:
        return
    if name.endswith(":*"):
        raise ValidationException("Invalid resourceArn")
    if name not in backend.groups:
        raise ResourceNotFoundException("The specified log group does not exist.")


def _describe_log_groups(self: LogsResponse, original: Any) -> str:
    identifiers = self._get_param("logGroupIdentifiers")
    if identifiers is None or not current().logs_rules:
        answer: str = original(self)
        return answer
    if not 1 <= len(identifiers) <= IDENTIFIERS_MAX:
        raise InvalidParameterException(
            f"1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy "
            f"constraint: Member must have length less than or equal to {IDENTIFIERS_MAX} and "
            "greater than or equal to 1"
        )
    if self._get_param("logGroupNamePrefix") or self._get_param("logGroupNamePattern"):
        raise InvalidParameterException(
            "logGroupIdentifiers cannot be specified together with logGroupNamePrefix or "
            "logGroupNamePattern"
        )
    wanted = {_log_group_name(item) or item for item in identifiers}
    groups = sorted(
        (group for name, group in self.logs_backend.groups.items() if name in wanted),
        key=lambda group: group.name,
    )
    return json.dumps({"logGroups": [group.to_describe_dict() for group in groups]})


def install() -> None:
    """Patch moto's CloudWatch Logs backend and responses with the rules above. Idempotent."""
    if getattr(LogsBackend, _MARKER, False):
        return
    original_describe = LogsResponse.describe_log_groups
    original_list_tags = LogsBackend.list_tags_for_resource
    original_tag = LogsBackend.tag_resource
    original_untag = LogsBackend.untag_resource
    original_put_retention = LogsBackend.put_retention_policy

    def describe_log_groups(self: LogsResponse) -> str:
        return _describe_log_groups(self, original_describe)

    def list_tags_for_resource(self: LogsBackend, resource_arn: str) -> dict[str, str]:
        _check_tagged_group(self, resource_arn)
        tags: dict[str, str] = original_list_tags(self, resource_arn)
        return tags

    def tag_resource(self: LogsBackend, arn: str, tags: dict[str, str]) -> None:
        _check_tagged_group(self, arn)
        original_tag(self, arn, tags or {})

    def untag_resource(self: LogsBackend, arn: str, tag_keys: list[str]) -> None:
        _check_tagged_group(self, arn)
        original_untag(self, arn, tag_keys)

    def put_retention_policy(
        self: LogsBackend, log_group_name: str, retention_in_days: Any
    ) -> None:
        if current().logs_rules and (
            isinstance(retention_in_days, bool) or retention_in_days not in RETENTION_DAYS
        ):
            raise InvalidParameterException(
                f"1 validation error detected: Value '{retention_in_days}' at 'retentionInDays' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(map(str, sorted(RETENTION_DAYS)))}]"
            )
        original_put_retention(self, log_group_name, retention_in_days)

    LogsResponse.describe_log_groups = describe_log_groups  # type: ignore[method-assign]
    LogsBackend.list_tags_for_resource = list_tags_for_resource  # type: ignore[method-assign]
    LogsBackend.tag_resource = tag_resource  # type: ignore[method-assign]
    LogsBackend.untag_resource = untag_resource  # type: ignore[method-assign]
    LogsBackend.put_retention_policy = put_retention_policy  # type: ignore[method-assign]
    setattr(LogsBackend, _MARKER, True)
