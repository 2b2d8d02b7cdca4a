"""AWS as AWS behaves, on moto: the operations moto 5.2 lacks and the rules it does not keep.

moto emulates most of what the reconciler calls, but answers instantly and accepts more than AWS
does. :func:`install` patches moto's own classes so that plain boto3 clients see AWS's request and
response shapes, HTTP status codes, error codes and delays, both in process (``moto.mock_aws``)
and against a moto server in the same process (``moto.server.ThreadedMotoServer``; call
:func:`install` before the server answers its first request):

- :mod:`~reconciler.emulator.lambda_provisioned`: provisioned concurrency (absent from moto), its
  allocation over time, weighted aliases, the account's unreserved minimum;
- :mod:`~reconciler.emulator.lambda_alias`: an alias with provisioned concurrency moving to a
  new version, with routing weights meanwhile;
- :mod:`~reconciler.emulator.lambda_updates`: ``LastUpdateStatus: InProgress`` and 409s after an
  update, environment variable rules, ``TagsError``;
- :mod:`~reconciler.emulator.lambda_tracing`: ``UpdateFunctionConfiguration`` keeps
  ``TracingConfig`` (moto ignored it);
- :mod:`~reconciler.emulator.cloudwatch`: alarm validation, tags kept on update, a missing
  alarm's ``ResourceNotFoundException``;
- :mod:`~reconciler.emulator.logs`: log groups looked up by name, tagged only by the ARN
  without ``:*``, retention only in AWS's numbers of days;
- :mod:`~reconciler.emulator.rds`: ``modifying`` clusters, Serverless v2 capacity by engine
  version;
- :mod:`~reconciler.emulator.dynamodb`: ``UPDATING`` tables, TTL changes once an hour and
  ``ENABLING``/``DISABLING``, billing-mode switches limited in 24 hours;
- :mod:`~reconciler.emulator.rds_instances`: DB instance modifications deferred to the maintenance
  window (``PendingModifiedValues``), ``modifying`` instances;
- :mod:`~reconciler.emulator.budgets`: budget updates, subscribers, tags (absent from moto) and
  AWS's rules on limits, filters and subscribers;
- :mod:`~reconciler.emulator.ssm`: ``DescribeParameters`` pages of ``MaxResults``;
- :mod:`~reconciler.emulator.ecs`: ECS deployments that roll out over time, and may fail;
  task definitions that keep every registered member;
- :mod:`~reconciler.emulator.credentials`: assumed-role credentials that expire;
- :mod:`~reconciler.emulator.apigatewayv2`: ``UpdateStage`` and ``DeleteRouteSettings`` (absent
  from moto), route settings checked against the API's routes, one set of stage tags, ``GetApis``
  in pages.

How much of this is on, and how long delays last, is one :class:`Behaviour`
(:mod:`~reconciler.emulator.settings`): all on by default; ``RECONCILER_EMULATOR=moto`` starts a
process with moto's own behaviour. ``reconciler/emulator/README.md`` lists every rule and its
source.

This package belongs to the ``demo`` extra: moto is imported only when :func:`install` runs, and
the Lambda production code never imports it.

Usage::

    from reconciler.emulator import behaviour, emulated_aws

    with emulated_aws(), behaviour(lambda_update_reads=3):
        boto3.client("lambda").update_function_configuration(...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.emulator.settings import Behaviour, behaviour, configure, current

__all__ = ["Behaviour", "behaviour", "configure", "current", "emulated_aws", "install"]

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Register every extension into moto. Safe to call any number of times, from any thread."""
    global _installed  # noqa: PLW0603 - one process-wide flag guards the monkeypatching
    with _lock:
        if _installed:
            return
        # Lazy: importing these imports moto, which production code must never pay for.
        from reconciler.emulator import (
            apigatewayv2,
            budget_rules,
            budgets,
            cloudwatch,
            credentials,
            dynamodb,
            ecs,
            lambda_alias,
            lambda_provisioned,
            lambda_tracing,
            lambda_updates,
            logs,
            rds,
            rds_instances,
            ssm,
        )

        lambda_provisioned.install()
        lambda_alias.install()
        lambda_updates.install()
        lambda_tracing.install()
        cloudwatch.install()
        logs.install()
        rds.install()
        ssm.install()
        rds_instances.install()
        budgets.install()
        budget_rules.install()
        dynamodb.install()
        credentials.install()
        apigatewayv2.install()
        ecs.install()
        _installed = True


@contextmanager
def emulated_aws() -> Iterator[None]:
    """:func:`install`, then run the block inside ``moto.mock_aws()`` (fresh, empty state)."""
    install()
    import moto

    with moto.mock_aws():
        yield
