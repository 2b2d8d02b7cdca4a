"""The examples (`examples/`, one per seed stack): each is a valid set of three environments that
an editor can check against the schema, shipped with the package for `reconciler demo --stack`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.demo import catalog
from reconciler.demo.drift import DRIFTS
from reconciler.demo.seed import CREATED_BY_THE_RECONCILER, CREATES
from reconciler.kinds import KINDS
from reconciler.loader import load_environment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ENVIRONMENTS = ("dev", "staging", "prod")
SCHEMA_COMMENT = "# yaml-language-server: $schema="


def test_the_catalog_names_every_example_folder() -> None:
    folders = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())

    assert folders == sorted(catalog.STACKS)


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_each_example_has_dev_staging_and_prod(stack: str) -> None:
    manifests = EXAMPLES / stack / "manifests"

    assert sorted(p.name for p in manifests.iterdir()) == sorted(ENVIRONMENTS)
    assert (EXAMPLES / stack / "README.md").is_file()


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_reconciler_validate_passes_on_each_example(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(EXAMPLES / stack / "manifests")])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count(": valid (") == 3, out


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_the_environments_are_modes_an_operator_expects(stack: str) -> None:
    dev, staging, prod = (
        load_environment(str(EXAMPLES / stack / "manifests" / name)).environment.spec
        for name in ENVIRONMENTS
    )

    for spec in (dev, staging, prod):
        assert (spec.account, spec.region) == ("123456789012", "us-east-1")
    assert (dev.mode, staging.mode, prod.mode) == ("apply", "observe", "apply")
    assert prod.require_image_digest and prod.prune and prod.freeze_windows
    assert not dev.prune and not dev.freeze_windows


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_every_manifest_points_its_editor_at_the_schema(stack: str) -> None:
    for path in sorted((EXAMPLES / stack / "manifests").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(SCHEMA_COMMENT), path
        schema = (path.parent / first.removeprefix(SCHEMA_COMMENT)).resolve()
        assert schema == ROOT / "schemas" / "manifest.schema.json", path


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_the_demo_drifts_every_resource_it_picks(stack: str) -> None:
    """A drift that leaves the spec as declared would show a demo with nothing to correct."""
    for name in ENVIRONMENTS:
        loaded = load_environment(str(EXAMPLES / stack / "manifests" / name))
        for resource in loaded.resources:
            spec = resource.to_manifest()["spec"]
            drift = DRIFTS[resource.kind](spec)
            assert drift.spec != spec or not drift.tagged, (resource.kind, resource.name)
            assert drift.line


@pytest.mark.parametrize("stack", catalog.STACKS)
def test_the_package_finds_each_example_as_its_own_resource(stack: str, tmp_path: Path) -> None:
    copy = Path(catalog.copy_manifests(stack, str(tmp_path)))

    originals = sorted(p.relative_to(EXAMPLES / stack) for p in (EXAMPLES / stack).rglob("*.yaml"))
    copies = sorted(p.relative_to(tmp_path) for p in copy.rglob("*.yaml"))
    assert copies == originals


def test_an_unknown_example_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--stack", "no-such-stack"])

    assert exited.value.code == 2
    assert "flask-aurora" in capsys.readouterr().err


def test_the_demo_can_seed_every_kind_and_knows_which_the_reconciler_creates() -> None:
    resources = {name for name in KINDS if name != "Environment"}

    assert resources <= CREATES.keys() and resources <= DRIFTS.keys()
    assert {name for name in resources if KINDS[name].creatable} == CREATED_BY_THE_RECONCILER
