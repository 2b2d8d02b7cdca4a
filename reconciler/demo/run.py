"""Tell the demo's story: emulator up, drifted stack, plan, apply, plan again."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

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


def main() -> int:
    """Run the demo; returns 0 when the drifted stack converged in one apply."""
    try:
        import boto3

        from reconciler.emulator import emulated_aws
    except ImportError as exc:  # moto is the `demo` extra
        print(f"reconciler demo needs the emulator: pip install 'reconciler[demo]' ({exc})")
        return 1
    from reconciler.cli import main as cli

    with _offline_credentials(), emulated_aws(), tempfile.TemporaryDirectory() as root:
        _step(1, "An emulated AWS account (moto, in process; no network, no credentials)")
        create_drifted_stack(boto3.Session(region_name="us-east-1"))
        print("Created a small stack modelled on manifests/dev, then drifted it by hand:")
        for line in DRIFT:
            print(f"  • {line}")
        manifests = write_manifests(root)
        print(f"\nManifests for environment 'demo' written to {manifests}/demo")

        _step(2, "reconciler validate")
        cli(["validate", manifests])

        _step(3, "reconciler plan --env demo   (what has drifted?)")
        sys.stdout.flush()
        cli(["plan", "--env", "demo", "--manifests", manifests])

        _step(4, "reconciler apply --env demo --yes   (put it right, then verify)")
        applied = cli(["apply", "--env", "demo", "--manifests", manifests, "--yes"])

        _step(5, "reconciler plan --env demo --detailed-exitcode   (in sync now?)")
        in_sync = cli(["plan", "--env", "demo", "--manifests", manifests, "--detailed-exitcode"])
        print(
            "\nThe stack converged in one apply."
            if applied == 0 and in_sync == 0
            else "\nThe stack did NOT converge; see above."
        )
        return 0 if applied == 0 and in_sync == 0 else 1
