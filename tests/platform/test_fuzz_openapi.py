"""Schemathesis over /openapi.json against a real server: whatever it sends, never a 5xx.

Customer routes are called with a shopper's token and admin routes with the
owner's, so the generated bodies reach the validation and service layers
instead of stopping at the 401.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(live_server: dict[str, Any]) -> dict[str, Any]:
    base = live_server["base_url"]
    shopper = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": "fuzzer"}).json()["token"]
    owner = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
    ).json()
    return {"base": base, "shopper": shopper, "owner": owner["token"]}


def test_no_request_makes_the_server_fail(api: dict[str, Any]) -> None:
    # Driven through schemathesis' operations and Hypothesis strategies rather than its pytest plugin,
    # whose fixture integration breaks on pytest 9 (AttributeError: _nodeid).
    schema = schemathesis.openapi.from_url(api["base"] + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path == "/api/admin/v1/dev/clock":
            continue  # moving the server clock would expire the tokens the other cases use
        if op.path in ("/api/admin/v1/auth/logout", "/api/admin/v1/auth/password"):
            continue  # ending the owner's session would leave every later admin case at its 401
        operations += 1
        auth = {"Authorization": "Bearer " + (api["owner"] if op.path.startswith("/api/admin/") else api["shopper"])}

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: Any, auth: dict[str, str]) -> None:
            response = case.call(base_url=api["base"], headers=auth)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400 and not response.json()["error"]["code"].isupper():
                failures.append(f"{case.method} {case.formatted_path}: error without a code: {response.text[:200]}")

        exercise(auth=auth)
    assert operations >= 20
    assert failures == []
