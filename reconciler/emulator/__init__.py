"""AWS operations moto 5.2 lacks, added to moto for the demo and the tests.

moto emulates most of what the reconciler calls, but not Lambda provisioned concurrency
(:mod:`reconciler.emulator.lambda_provisioned`) and not the Budgets updates, subscribers and tags
(:mod:`reconciler.emulator.budgets`). :func:`install` patches those into moto's own classes, with
the request and response shapes, HTTP status codes and error codes of the AWS API reference, so
plain boto3 clients work against them both in process (``moto.mock_aws``) and against a moto
server in the same process (``moto.server.ThreadedMotoServer``; call :func:`install` before the
server answers its first Lambda request).

This package belongs to the ``demo`` extra: moto is imported only when :func:`install` runs, and
the Lambda production code never imports it.

Usage::

    from reconciler.emulator import emulated_aws

    with emulated_aws():
        boto3.client("lambda").put_provisioned_concurrency_config(...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["emulated_aws", "install"]

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Register every extension into moto. Safe to call any number of times, from any thread."""
    global _installed  # noqa: PLW0603 - one process-wide flag guards the monkeypatching
    with _lock:
        if _installed:
            return
        # Lazy: importing these imports moto, which production code must never pay for.
        from reconciler.emulator import budgets, lambda_provisioned

        lambda_provisioned.install()
        budgets.install()
        _installed = True


@contextmanager
def emulated_aws() -> Iterator[None]:
    """:func:`install`, then run the block inside ``moto.mock_aws()`` (fresh, empty state)."""
    install()
    import moto

    with moto.mock_aws():
        yield
