"""Tell the demo's story: emulator up, drifted stack, plan, apply, plan again.

`reconciler demo` runs it on a small built-in stack (`reconciler.demo.stack`); `reconciler demo
--stack NAME` on the `dev` environment of one of the examples (`reconciler.demo.catalog`),
created and drifted from its own manifests (`reconciler.demo.seed`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from reconciler.demo.catalog import copy_manifests
from reconciler.demo.seed import seed_environment
from reconciler.demo.stack import DRIFT, create_drifted_stack, write_manifests

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_CLEARED = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@contextmanager
def _offline_credentials() -> Iterator[None]:
    """Fake credentials and no profile or endpoint, so nothing can reach a real account."""
    saved = {name: os.environ.get(name) for name in (*_FAKE_CREDENTIALS, *_CLEARED)}
    os.environ.update(_FAKE_CREDENTIALS)
    for name in _CLEARED:
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _step(number: int, title: str) -> None:
    print(f"\n── {number}. {title} " + "─" * max(0, 66 - len(title)), flush=True)


def main(stack: str | None = None) -> int:
    """Run the demo (of one example when `stack` names it); returns 0 when the drifted stack
    converged in one apply."""
    try:
        import boto3

        from reconciler.emulator import emulated_aws
    except ImportError as exc:  # moto is the `demo` extra
        print(f"reconciler demo needs the emulator: pip install 'reconciler[demo]' ({exc})")
        return 1

    with _offline_credentials(), emulated_aws(), tempfile.TemporaryDirectory() as root:
        _step(1, "An emulated AWS account (moto, in process; no network, no credentials)")
        session = boto3.Session(region_name="us-east-1")
        if stack is None:
            create_drifted_stack(session)
            print("Created a small stack modelled on manifests/dev, then drifted it by hand:")
            drift = DRIFT
            manifests, environment = write_manifests(root), "demo"
        else:
            manifests, environment = copy_manifests(stack, root), "dev"
            drift = seed_environment(session, os.path.join(manifests, environment))
            print(f"Created the {stack} example's dev environment, then drifted it by hand:")
        for line in drift:
            print(f"  • {line}")
        print(f"\nManifests for environment '{environment}' written to {manifests}/{environment}")
        return _reconcile(manifests, environment)


def _reconcile(manifests: str, environment: str) -> int:
    """validate, plan, apply --yes, plan --detailed-exitcode: 0 when the stack converged."""
    from reconciler.cli import main as cli

    _step(2, "reconciler validate")
    cli(["validate", manifests])

    _step(3, f"reconciler plan --env {environment}   (what has drifted?)")
    sys.stdout.flush()
    cli(["plan", "--env", environment, "--manifests", manifests])

    _step(4, f"reconciler apply --env {environment} --yes   (put it right, then verify)")
    applied = cli(["apply", "--env", environment, "--manifests", manifests, "--yes"])

    _step(5, f"reconciler plan --env {environment} --detailed-exitcode   (in sync now?)")
    in_sync = cli(["plan", "--env", environment, "--manifests", manifests, "--detailed-exitcode"])
    print(
        "\nThe stack converged in one apply."
        if applied == 0 and in_sync == 0
        else "\nThe stack did NOT converge; see above."
    )
    return 0 if applied == 0 and in_sync == 0 else 1
