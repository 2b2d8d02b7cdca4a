"""Record every AWS operation the code makes, by who made it, and name the IAM actions it needs.

`CallRecorder` wraps botocore's one door to AWS (`BaseClient._make_api_call`), so every client
counts: the engine's (`reconciler.aws.Clients`, assumed-role sessions included), the handlers'
(`boto3.client(...)`), Powertools' idempotency and secrets clients, and the state machine's own
Lambda invocations inside moto. Each call is charged to an actor: the function whose handler is
running on that thread (set by wrapping `lambda_in_process._invoke`, and carried into the
engine's worker threads), the state machine for moto's execution threads, or the test itself.

`iam_actions` maps an operation to the IAM actions it needs. Most are `prefix:Operation`; the
table below lists every exception, each with the AWS documentation's reason.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient

TEST = "test"
STATE_MACHINE = "ReconcileStateMachine"

#: IAM's service prefix where it differs from botocore's service name.
PREFIXES = {
    "resourcegroupstaggingapi": "tag",
    "stepfunctions": "states",
    "apigatewayv2": "apigateway",
}

#: Operations whose IAM action is not `prefix:Operation`, or that need more than one action.
#: Sources: the Service Authorization Reference's "API operations" tables, and the API references.
ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    # "Lambda returns tag data only if you have explicit allow permissions for lambda:ListTags"
    # (GetFunction, `Tags`); the engine reads the ownership tag from GetFunction.
    ("lambda", "GetFunction"): frozenset({"lambda:GetFunction", "lambda:ListTags"}),
    ("lambda", "Invoke"): frozenset({"lambda:InvokeFunction"}),
    # Budgets has two permissions for all of its budget, notification and subscriber calls.
    ("budgets", "DescribeBudgets"): frozenset({"budgets:ViewBudget"}),
    ("budgets", "DescribeBudget"): frozenset({"budgets:ViewBudget"}),
    ("budgets", "DescribeNotificationsForBudget"): frozenset({"budgets:ViewBudget"}),
    ("budgets", "DescribeSubscribersForNotification"): frozenset({"budgets:ViewBudget"}),
    ("budgets", "DescribeBudgetNotificationsForAccount"): frozenset({"budgets:ViewBudget"}),
    ("budgets", "CreateBudget"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "UpdateBudget"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "DeleteBudget"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "CreateNotification"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "UpdateNotification"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "DeleteNotification"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "CreateSubscriber"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "UpdateSubscriber"): frozenset({"budgets:ModifyBudget"}),
    ("budgets", "DeleteSubscriber"): frozenset({"budgets:ModifyBudget"}),
    # API Gateway's IAM actions are the HTTP verbs of its REST paths, on the path as a resource
    # (Service Authorization Reference, "Amazon API Gateway Management V2", API operations).
    ("apigatewayv2", "GetApis"): frozenset({"apigateway:GET"}),
    ("apigatewayv2", "GetStage"): frozenset({"apigateway:GET"}),
    ("apigatewayv2", "GetStages"): frozenset({"apigateway:GET"}),
    ("apigatewayv2", "GetTags"): frozenset({"apigateway:GET"}),
    ("apigatewayv2", "UpdateStage"): frozenset({"apigateway:PATCH"}),
    ("apigatewayv2", "DeleteRouteSettings"): frozenset({"apigateway:DELETE"}),
    ("apigatewayv2", "TagResource"): frozenset({"apigateway:POST"}),
    # Reading a bundle: with s3:ListBucket a missing key is 404 NoSuchKey ("nothing published
    # yet"), without it 403 AccessDenied, which the source cannot tell from a wrong policy.
    ("s3", "GetObject"): frozenset({"s3:GetObject", "s3:ListBucket"}),
    # "Application Auto Scaling requires permissions to create a service-linked role the first
    # time any user in your AWS account calls RegisterScalableTarget for a given service"
    # (Application Auto Scaling user guide, "Service-linked roles"); registering an ECS service
    # also needs ecs:DescribeServices and ecs:UpdateService on it ("Permissions required for API
    # actions on target services").
    ("application-autoscaling", "RegisterScalableTarget"): frozenset(
        {
            "application-autoscaling:RegisterScalableTarget",
            "iam:CreateServiceLinkedRole",
            "ecs:DescribeServices",
            "ecs:UpdateService",
        }
    ),
}

#: Request parameters that need a further action: tags set while creating or writing.
TAGGING_PARAMETERS: dict[tuple[str, str], tuple[str, str]] = {
    ("cloudwatch", "PutMetricAlarm"): ("Tags", "cloudwatch:TagResource"),
    ("budgets", "CreateBudget"): ("ResourceTags", "budgets:TagResource"),
    # "To create an SSM parameter, you must have ... ssm:PutParameter and ssm:AddTagsToResource"
    # (AWS::SSM::Parameter, CloudFormation resource reference).
    ("ssm", "PutParameter"): ("Tags", "ssm:AddTagsToResource"),
    # "To assign tags when you create a log group, you must have either the logs:TagResource or
    # logs:TagLogGroup permission" (botocore logs/2014-03-28, CreateLogGroupRequest.tags).
    ("logs", "CreateLogGroup"): ("tags", "logs:TagResource"),
    # "To tag a resource on create, you must have permission for ecs:TagResource" (ECS
    # developer guide, "Grant permission to tag resources on creation").
    ("ecs", "RegisterTaskDefinition"): ("tags", "ecs:TagResource"),
}

#: Request parameters that pass an IAM role: the caller needs iam:PassRole on it (the IAM user
#: guide, "Grant a user permissions to pass a role to an AWS service").
PASSED_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("ecs", "RegisterTaskDefinition"): ("taskRoleArn", "executionRoleArn"),
}


def iam_actions(service: str, operation: str, parameters: dict[str, Any]) -> set[str]:
    """The IAM actions one call needs."""
    needed = set(
        ACTIONS.get((service, operation), {f"{PREFIXES.get(service, service)}:{operation}"})
    )
    tagging = TAGGING_PARAMETERS.get((service, operation))
    if tagging is not None and parameters.get(tagging[0]):
        needed.add(tagging[1])
    if any(parameters.get(name) for name in PASSED_ROLES.get((service, operation), ())):
        needed.add("iam:PassRole")
    return needed


@dataclass(frozen=True)
class Call:
    actor: str
    service: str
    operation: str
    parameters: dict[str, Any]

    @property
    def actions(self) -> set[str]:
        return iam_actions(self.service, self.operation, self.parameters)


class CallRecorder:
    """Every AWS call made while recording, charged to the function (or machine) that made it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def actor(self) -> str:
        running = getattr(self._local, "actor", None)
        if running is not None:
            return str(running)
        return TEST if threading.current_thread() is threading.main_thread() else STATE_MACHINE

    @contextmanager
    def acting_as(self, actor: str | None) -> Iterator[None]:
        previous = getattr(self._local, "actor", None)
        self._local.actor = actor
        try:
            yield
        finally:
            self._local.actor = previous

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record from now until the test ends; call before `handlers_in_process()` starts."""
        import lambda_in_process

        recorder = self
        make_api_call = BaseClient._make_api_call
        submit = ThreadPoolExecutor.submit
        invoke = lambda_in_process._invoke

        def recorded(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            with recorder._lock:
                recorder.calls.append(Call(recorder.actor(), service, operation, dict(parameters)))
            return make_api_call(client, operation, parameters)

        def carried(executor: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            actor = getattr(recorder._local, "actor", None)

            def run(*inner: Any, **named: Any) -> Any:
                with recorder.acting_as(actor):
                    return fn(*inner, **named)

            return submit(executor, run, *args, **kwargs)

        def invoked(
            backend: Any, function_name: str, qualifier: Any, *args: Any, **kwargs: Any
        ) -> Any:
            name = function_name.rsplit(":function:", 1)[-1].split(":", maxsplit=1)[0]
            with recorder.acting_as(name):
                return invoke(backend, function_name, qualifier, *args, **kwargs)

        monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
        monkeypatch.setattr(ThreadPoolExecutor, "submit", carried)
        monkeypatch.setattr(lambda_in_process, "_invoke", invoked)

    def by_actor(self) -> dict[str, list[Call]]:
        found: dict[str, list[Call]] = defaultdict(list)
        for call in self.calls:
            found[call.actor].append(call)
        return dict(found)

    def actions(self, actor: str) -> set[str]:
        return {action for call in self.calls if call.actor == actor for action in call.actions}

    def operations(self, *actors: str) -> set[tuple[str, str]]:
        return {(c.service, c.operation) for c in self.calls if not actors or c.actor in actors}
