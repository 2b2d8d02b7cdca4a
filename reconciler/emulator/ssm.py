"""SSM Parameter Store as AWS pages it: ``DescribeParameters`` honours ``MaxResults``.

moto 5.2 answers ``DescribeParameters`` ten parameters a page whatever ``MaxResults`` asks; AWS
takes ``MaxResults`` from 1 to 50 (botocore ``ssm/2014-11-06``, member ``MaxResults``: "The
maximum number of items to return for this call") and returns up to that many, with
``NextToken`` for the rest. Without ``MaxResults`` the page stays moto's ten.

Already as AWS, so left alone (each held by a test in ``tests/functional/emulator/test_ssm.py``):
``PutParameter`` with both ``Tags`` and ``Overwrite`` is a ``ValidationException`` ("Invalid
request: tags and overwrite can't be used together..."), and ``GetParameters`` refuses more than
ten names.
"""

from __future__ import annotations

from typing import Any, Final

from moto.core.responses import ActionResult
from moto.ssm.responses import SimpleSystemManagerResponse

_MARKER: Final = "_reconciler_emulator_ssm"
#: moto's page when the request names no MaxResults.
DEFAULT_PAGE: Final = 10


def _describe_parameters(self: SimpleSystemManagerResponse) -> ActionResult:
    page_size = int(self._get_param("MaxResults") or DEFAULT_PAGE)
    token = str(self._get_param("NextToken") or "0").strip() or "0"
    start = int(token)
    found = self.ssm_backend.describe_parameters(
        self._get_param("Filters"), self._get_param("ParameterFilters")
    )
    page = found[start : start + page_size]
    response: dict[str, Any] = {
        "Parameters": [parameter.describe_response_object(False) for parameter in page]
    }
    if start + page_size < len(found):
        response["NextToken"] = str(start + page_size)
    return ActionResult(response)


def install() -> None:
    """Patch moto's SSM responses with the paging above. Idempotent."""
    if getattr(SimpleSystemManagerResponse, _MARKER, False):
        return
    SimpleSystemManagerResponse.describe_parameters = _describe_parameters  # type: ignore[method-assign]
    setattr(SimpleSystemManagerResponse, _MARKER, True)
