"""The console's 储值 pages: packages through the 元 form, the spending order, 储值记录 with the refund,
余额明细, a customer's 余额 page with the adjustment form (finance only, reason required), and the 客户
pages' 余额 card, column and filter. Chinese only."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.wallet.models import WalletEntry, WalletPackage
from tests.console_helpers import console
from tests.english import english_sentences
from tests.helpers import admin, shopper
from tests.platform.test_console_no_english import _read
from tests.wallet.helpers import A, customer_id, package, top_up, wallet


def _chinese(html: str) -> None:
    found = [s for line in _read(html).lines for s in english_sentences(line)]
    assert found == [], found


async def test_a_package_round_trips_through_the_yuan_form(client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/wallet/packages/new")
    assert page.status_code == 200 and "储值金额（元）" in page.text
    _chinese(page.text)
    bad = await client.post("/admin/wallet/packages/new", data={"csrf_token": csrf, "pay_fen": "0", "bonus_fen": "abc"})
    assert bad.status_code == 422 and "赠送金额" in bad.text
    r = await client.post(
        "/admin/wallet/packages/new", data={"csrf_token": csrf, "pay_fen": "500", "bonus_fen": "100", "active": "on"}
    )
    assert r.status_code == 303, r.text
    async with db.read() as s:
        p = await s.scalar(select(WalletPackage))
    assert p is not None and (p.name, p.pay_fen, p.bonus_fen, p.active) == ("储值500送100", 50000, 10000, True)
    listing = await client.get("/admin/wallet/packages")
    assert "充500送100" in listing.text and "¥500.00" in listing.text
    _chinese(listing.text)
    edit = await client.get(f"/admin/wallet/packages/{p.id}")
    assert 'value="500"' in edit.text and 'value="100"' in edit.text  # saved amounts shown as typed
    r = await client.post(
        f"/admin/wallet/packages/{p.id}", data={"csrf_token": csrf, "name": "", "pay_fen": "200", "bonus_fen": "30"}
    )
    assert r.status_code == 303
    async with db.read() as s:
        p = await s.scalar(select(WalletPackage).execution_options(populate_existing=True))
    assert p is not None and (p.name, p.pay_fen, p.bonus_fen, p.active) == ("储值200送30", 20000, 3000, False)
    # The operator may not set the spending order (finance's 'wallet').
    r = await client.post("/admin/wallet/settings", data={"csrf_token": csrf, "spend_order": "bonus_first"})
    assert r.status_code == 403


async def test_top_ups_refund_from_the_console_and_the_ledger_shows_every_entry(client, db):
    boss = await admin(client, db)
    p = await package(client, boss, 50000, 10000)
    h = await shopper(client, "cw")
    t = await top_up(client, h, p["id"])
    cid = await customer_id(db, "cw")
    csrf = await console(client, db, "finance")
    page = await client.get("/admin/wallet/top-ups")
    assert (
        page.status_code == 200
        and "已到账" in page.text
        and f"/admin/wallet/top-ups/{t['top_up_id']}/refund" in page.text
    )
    _chinese(page.text)
    r = await client.post(f"/admin/wallet/top-ups/{t['top_up_id']}/refund", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert await wallet(client, h) == (0, 0)
    again = await client.post(f"/admin/wallet/top-ups/{t['top_up_id']}/refund", data={"csrf_token": csrf})
    assert again.status_code == 409 and "不能退款" in again.text
    entries = await client.get(f"/admin/wallet/entries?customer_id={cid}")
    assert entries.status_code == 200 and "储值到账" in entries.text and "储值退款" in entries.text
    assert "finance-console" in entries.text  # the operator of the refund
    _chinese(entries.text)
    bad = await client.get("/admin/wallet/entries?customer_id=abc")
    assert bad.status_code == 422 and "买家编号" in bad.text


async def test_an_adjustment_needs_a_reason_and_finance_and_shows_on_the_customer_pages(client, db):
    h = await shopper(client, "adj")
    cid = await customer_id(db, "adj")
    csrf = await console(client, db, "operator")
    assert (await client.get(f"/admin/wallet/customers/{cid}")).status_code == 403
    r = await client.post(
        f"/admin/wallet/customers/{cid}/adjust", data={"csrf_token": csrf, "delta": "5", "reason": "x"}
    )
    assert r.status_code == 403
    csrf = await console(client, db, "finance")
    page = await client.get(f"/admin/wallet/customers/{cid}")
    assert page.status_code == 200 and "调整余额" in page.text
    _chinese(page.text)
    r = await client.post(
        f"/admin/wallet/customers/{cid}/adjust", data={"csrf_token": csrf, "delta": "5", "reason": ""}
    )
    assert r.status_code == 422 and "请填写调整原因" in r.text
    r = await client.post(
        f"/admin/wallet/customers/{cid}/adjust", data={"csrf_token": csrf, "delta": "abc", "reason": "补偿"}
    )
    assert r.status_code == 422 and "请填写金额" in r.text
    r = await client.post(
        f"/admin/wallet/customers/{cid}/adjust",
        data={"csrf_token": csrf, "delta": "9", "reason": "扣款", "direction": "sub"},
    )
    assert r.status_code == 422 and "余额不足" in r.text
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(WalletEntry)) == 0
    r = await client.post(
        f"/admin/wallet/customers/{cid}/adjust",
        data={"csrf_token": csrf, "delta": "12.50", "reason": "客诉补偿", "bucket": "principal", "direction": "add"},
    )
    assert r.status_code == 303
    assert await wallet(client, h) == (1250, 0)
    detail = await client.get(f"/admin/customers/{cid}")
    assert detail.status_code == 200 and 'data-panel="余额"' in detail.text and "客诉补偿" in detail.text
    listing = await client.get("/admin/customers?balance_min=10")
    assert listing.status_code == 200 and "余额" in listing.text and "¥12.50" in listing.text
    empty = await client.get("/admin/customers?balance_min=20")
    assert "¥12.50" not in empty.text
    wrong = await client.get("/admin/customers?balance_min=abc")
    assert wrong.status_code == 422
    r = await client.get(f"{A}/customers/{cid}/wallet", headers=await admin(client, db, "finance", username="fin-api"))
    assert r.json()["balance_fen"] == 1250


async def test_a_top_up_reads_as_one_in_the_order_list_and_is_no_spend(client, db):
    """订单 names the top-up (储值充值, 储值500元送100元), and 客户's 累计消费 leaves it out: its money counts when
    an order spends it, not twice."""
    boss = await admin(client, db)
    p = await package(client, boss, 50000, 10000)
    h = await shopper(client, "cs")
    await top_up(client, h, p["id"])
    await console(client, db, "owner")
    orders = await client.get("/admin/orders")
    assert (
        "<td>储值充值</td>" in orders.text
        and "<td>wallet_topup</td>" not in orders.text
        and "储值500元送100元" in orders.text
    )
    cid = await customer_id(db, "cs")
    spenders = await client.get("/admin/customers", params={"spend_min": "1"})
    everyone = await client.get("/admin/customers")
    assert f"/admin/customers/{cid}" in everyone.text and f"/admin/customers/{cid}" not in spenders.text
