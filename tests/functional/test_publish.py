"""`reconciler publish`: validate, bundle, upload to S3 (moto), and what the deployed side reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from dulwich import porcelain

from reconciler.aws import Clients
from reconciler.cli import main
from reconciler.kinds.lambda_function.model import LambdaFunction
from reconciler.loader import load_environment
from reconciler.sources import Checkout, source_from_uri

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests"
BUCKET = "ci-bundles"
TO = f"s3://{BUCKET}/reconciler"


@pytest.fixture
def bucket(aws: Clients) -> Any:
    s3 = boto3.client("s3", region_name=aws.region)
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """A copy of the example manifests, outside any git repository."""
    root = tmp_path / "project" / "manifests"
    shutil.copytree(EXAMPLES, root)
    return root


def memory_of(checkout: Checkout) -> int | None:
    """What the deployed side loads: the dev flask-api function's memory."""
    loaded = load_environment(f"{checkout.root}/dev")
    (function,) = [f for f in loaded.of_kind(LambdaFunction) if f.name == "flask-api"]
    return function.spec.memory_mb


def keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def set_memory(manifests: Path, memory: int) -> None:
    api = manifests / "dev" / "flask-api.yaml"
    text = api.read_text()
    start = text.index("memoryMb: ")
    end = text.index("\n", start)
    api.write_text(f"{text[:start]}memoryMb: {memory}{text[end:]}")


def test_publish_uploads_a_bundle_the_deployed_reconciler_reads(
    bucket: Any, manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_memory(manifests, 768)
    assert main(["publish", "--to", TO, str(manifests)]) == 0
    out = capsys.readouterr().out
    latest = json.loads(
        bucket.get_object(Bucket=BUCKET, Key="reconciler/latest.json")["Body"].read()
    )
    revision = latest["revision"]
    assert revision.startswith("sha256:")  # not in a git repository: the content's digest
    assert sorted(keys(bucket)) == [
        f"reconciler/bundles/{revision}.tar.gz",
        "reconciler/latest.json",
    ]
    assert f"as revision {revision}: s3://{BUCKET}/reconciler/bundles/{revision}.tar.gz" in out
    assert "dev, prod, staging" in out

    checkout = source_from_uri(TO, cache_dir=str(tmp_path / "cache")).checkout(None)
    assert checkout.revision == revision
    assert memory_of(checkout) == 768

    assert main(["publish", "--to", TO, str(manifests)]) == 0  # the same content: same revision
    assert len(keys(bucket)) == 2


def test_publish_names_the_git_head_and_refuses_uncommitted_manifests(
    bucket: Any, manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = manifests.parent
    repo = porcelain.init(str(project))
    porcelain.add(repo, [str(path) for path in manifests.rglob("*.yaml")])
    head = porcelain.commit(
        repo, message=b"manifests", author=b"CI <ci@example.com>", committer=b"CI <ci@example.com>"
    ).decode()
    repo.close()

    assert main(["publish", "--to", TO, str(manifests / "dev")]) == 0  # one environment
    assert f"as revision {head}:" in capsys.readouterr().out
    checkout = source_from_uri(TO, cache_dir=str(tmp_path / "cache")).checkout(head)
    assert sorted(p.name for p in Path(checkout.root).iterdir()) == ["dev"]
    assert memory_of(checkout) == 512

    set_memory(manifests, 1024)
    assert main(["publish", "--to", TO, str(manifests)]) == 1
    err = capsys.readouterr().err
    assert f"differ from the commit at HEAD ({head[:12]}): dev/flask-api.yaml" in err
    assert "pass --revision" in err
    assert len(keys(bucket)) == 2  # nothing more was uploaded

    (manifests / "dev" / "flask-api.yaml").unlink()  # a deleted manifest differs too
    assert main(["publish", "--to", TO, str(manifests)]) == 1
    assert "dev/flask-api.yaml" in capsys.readouterr().err

    shutil.copy(EXAMPLES / "dev" / "flask-api.yaml", manifests / "dev" / "flask-api.yaml")
    set_memory(manifests, 1024)
    assert main(["publish", "--to", TO, "--revision", "pr-42.1", str(manifests)]) == 0
    pointer = json.loads(
        bucket.get_object(Bucket=BUCKET, Key="reconciler/latest.json")["Body"].read()
    )
    assert pointer["revision"] == "pr-42.1"


def test_invalid_manifests_are_reported_like_validate_and_nothing_is_uploaded(
    bucket: Any, manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_memory(manifests, 20000)
    (manifests / "prod" / "environment.yaml").write_text("kind: [unclosed\n")
    assert main(["publish", "--to", TO, str(manifests)]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert any(
        line.startswith(f"{manifests}/dev/flask-api.yaml:")
        and "spec.memoryMb: 20000 is greater than the maximum of 10240 (LambdaFunction/flask-api)"
        in line
        for line in lines
    )
    assert any(line.startswith(f"{manifests}/prod/environment.yaml:1:") for line in lines)
    assert lines[-1].endswith("; nothing published")
    assert "Traceback" not in err
    assert keys(bucket) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "https://example.com/bucket"], "--to must be s3://BUCKET/PREFIX"),
        (["--to", "s3:///prefix"], "--to must be s3://BUCKET/PREFIX"),
        (["--to", TO, "no/such/folder"], "no such folder"),
        (["--to", TO, "--revision", "../../latest"], "--revision '../../latest'"),
    ],
)
def test_usage_mistakes_exit_2(
    argv: list[str],
    message: str,
    manifests: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(manifests.parent)
    assert main(["publish", *argv]) == 2
    assert message in capsys.readouterr().err


def test_s3_refusals_exit_1_with_a_sentence(
    bucket: Any, manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", "--to", "s3://no-such-bucket/x", str(manifests)]) == 1
    assert "S3 answered NoSuchBucket publishing to s3://no-such-bucket/x" in capsys.readouterr().err

    assert main(["publish", "--to", TO, "--revision", "v1", str(manifests)]) == 0
    set_memory(manifests, 1024)
    assert main(["publish", "--to", TO, "--revision", "v1", str(manifests)]) == 1
    assert "already holds different manifests for revision v1" in capsys.readouterr().err
