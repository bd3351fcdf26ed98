"""Console pages: settings, distributor approval and drill-down, withdrawals, and who may see them."""

from __future__ import annotations

from tests.console_helpers import console
from tests.distribution.helpers import configure, login
from tests.helpers import admin


async def test_operator_saves_settings_approves_a_distributor_and_finance_approves_a_withdrawal(client, db):
    boss = await admin(client, db)
    await configure(client, boss, approval="manual")
    h = await login(client, "applicant")
    assert (await client.post("/api/v1/distribution/apply", headers=h)).json()["status"] == "pending"

    csrf = await console(client, db, "operator")
    page = await client.get("/admin/distribution")
    assert page.status_code == 200 and "分销设置" in page.text
    form = {
        "csrf_token": csrf,
        "enabled": "on",
        "approval": "manual",
        "levels": "3",
        "bind_mode": "first",
        "binding_expiry_days": "0",
        "level1_rate_bp": "1000",
        "level2_rate_bp": "500",
        "cap_bp": "3000",
        "frozen_days": "7",
        "min_withdraw_fen": "100",
        "withdraw_fee_bp": "0",
        "advanced": "{}",
    }
    r = await client.post("/admin/distribution/config", data=form)
    assert r.status_code == 400 and "最多两级" in r.text
    r = await client.post("/admin/distribution/config", data={**form, "levels": "2", "level1_rate_bp": "1200"})
    assert r.status_code == 303
    assert (await client.get("/api/admin/v1/distribution/config", headers=boss)).json()["level1_rate_bp"] == 1200

    page = await client.get("/admin/distribution/distributors", params={"status": "pending"})
    assert "待审核" in page.text
    did = (await client.get("/api/admin/v1/distribution/distributors", headers=boss)).json()["items"][0]["id"]
    r = await client.post(f"/admin/distribution/distributors/{did}/decide", data={"csrf_token": csrf, "approve": "1"})
    assert r.status_code == 303
    assert (await client.get("/api/v1/distribution/me", headers=h)).json()["status"] == "approved"
    detail = await client.get(f"/admin/distribution/distributors/{did}")
    assert detail.status_code == 200 and "推广码" in detail.text

    # The operator may not see withdrawals; finance may.
    r = await client.get("/admin/distribution/withdrawals")
    assert r.status_code == 403
    await console(client, db, "finance")
    assert (await client.get("/admin/distribution/withdrawals")).status_code == 200
    r = await client.get("/admin/distribution")
    assert r.status_code == 403
