"""The templates pass cfn-lint's and checkov's security rules, or say in place why not.

cfn-lint runs with every rule, the informational and experimental ones included; the only
findings allowed are the two documentation-only hints in `ALLOWED_HINTS`. Its IAM rules are
shown to be awake by a broken copy of the target role.

checkov cannot share the project's environment: it pins boto3 1.35 and an old `packaging`,
downgrading what the project runs on. It runs from its own virtual environment instead, found as
`$CHECKOV`, `.venv-checkov/bin/checkov` or `checkov` on PATH:

    python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov

`make test` builds that venv (pinned) and passes `CHECKOV`. Without it that one test is skipped (saying so); the rest, including that every checkov
exception in the templates carries its reason, always run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint, lint_file
from cfnlint.config import ManualArgs
from cfnlint.core import get_rules
from policies import ROOT, TARGET_ROLE, TEMPLATE, parse

EVERY_RULE = ManualArgs(include_checks=["I"], include_experimental=True)

#: cfn-lint findings that are not about security, and why they stay.
ALLOWED_HINTS = {
    "I4010": "asks for Metadata.com.aws.cloudformation.Context blocks (documentation for tools)",
    "I3011": (
        "the log groups have no DeletionPolicy: deleting the stack deletes its 30-day logs, "
        "as intended (the run history table is retained)"
    ),
}

#: cfn-lint's rules on IAM, secrets and exposure; all of them must exist and stay quiet.
SECURITY_RULES = {
    "E1027",  # dynamic references to secure strings only where supported
    "E1051",  # Secrets Manager references only in resource properties
    "E3510",  # identity-based policies well formed
    "E3512",  # resource-based policies well formed
    "E3514",  # resource-policy ARNs well formed
    "E3530",  # trust policies well formed
    "I3510",  # statement resources match the actions
    "W1011",  # secrets passed as dynamic references, not parameters
    "W2501",  # password properties
    "W3037",  # every IAM action exists
    "W3045",  # S3 access through bucket policies
}

TEMPLATES = [TEMPLATE, TARGET_ROLE]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_cfn_lint_with_every_rule_finds_nothing_but_documentation_hints(path: Path) -> None:
    found = {match.rule.id: str(match) for match in lint_file(path, config=EVERY_RULE)}
    unexpected = {rule: text for rule, text in found.items() if rule not in ALLOWED_HINTS}
    assert unexpected == {}


def test_the_security_rules_exist_and_catch_mistakes() -> None:
    """The control: cfn-lint knows the rules above, and they fire on a broken target role."""
    known = set(get_rules([], [], ["I"], include_experimental=True).rules)
    assert known >= SECURITY_RULES
    text = TARGET_ROLE.read_text(encoding="utf-8")
    misspelt = text.replace("- lambda:GetFunction\n", "- lambda:GetFunktion\n", 1)
    wrong_resource = text.replace(
        "Resource: !Sub arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*",
        'Resource: "arn:aws:s3:::someone-elses-bucket/*"',
        1,
    )
    assert misspelt != text and wrong_resource != text
    assert "W3037" in {match.rule.id for match in lint(misspelt, config=EVERY_RULE)}
    assert "I3510" in {match.rule.id for match in lint(wrong_resource, config=EVERY_RULE)}


# --------------------------------------------------------------------------- checkov


def checkov_skips(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every `Metadata: checkov: skip` entry: (resource, check id, reason)."""
    found = []
    for name, resource in template.get("Resources", {}).items():
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            found.append((name, entry.get("id", ""), entry.get("comment", "")))
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_every_checkov_exception_says_why(path: Path) -> None:
    for resource, check, reason in checkov_skips(parse(path)):
        assert check.startswith("CKV_"), (resource, check)
        assert len(reason.split()) >= 8, f"{resource} skips {check} without a real reason"


def test_checkov_exceptions_are_few_and_known() -> None:
    """A new kind of exception is a decision: it is added here, with the template's reason."""
    checks = {check for _, check, _ in checkov_skips(parse(TEMPLATE))}
    assert checks <= {
        "CKV_AWS_115",  # reserved concurrency
        "CKV_AWS_116",  # dead-letter queue
        "CKV_AWS_117",  # VPC
        "CKV_AWS_173",  # environment variables under a customer managed key
        "CKV_AWS_119",  # DynamoDB under a customer managed key
        "CKV_AWS_158",  # log groups under a customer managed key
        "CKV_AWS_26",  # SNS topic encryption
    }
    assert checkov_skips(parse(TARGET_ROLE)) == []


def checkov() -> str | None:
    for candidate in (
        os.environ.get("CHECKOV"),
        str(ROOT / ".venv-checkov" / "bin" / "checkov"),
        shutil.which("checkov"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def test_checkov_finds_nothing_unexplained(tmp_path: Path) -> None:
    binary = checkov()
    if binary is None:
        pytest.skip("checkov is not installed (see this module's docstring)")
    command = [binary, "--framework", "cloudformation", "--skip-download", "--output", "json"]
    for path in TEMPLATES:
        command += ["--file", str(path)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        (check["check_id"], check["resource"], check["file_path"])
        for one in reports
        for check in one["results"]["failed_checks"]
    ]
    assert failed == []
    summary = [one["summary"] for one in reports]
    assert sum(s["passed"] for s in summary) >= 30  # it really checked the templates
    assert sum(s["parsing_errors"] for s in summary) == 0
    skipped = [check for one in reports for check in one["results"]["skipped_checks"]]
    assert len(skipped) == len(checkov_skips(parse(TEMPLATE)))
