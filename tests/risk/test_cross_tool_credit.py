"""Cross-tool credit (issue 19): a shopper the flash sale catches scripting (a spent token replayed, a storm of
attempts past the rate limits) is refused a group open and a commission accrual — until the score recovers
with time, or an operator clears it. Another distributor, who did nothing, earns all along.

Judged by the engine of issue 19 (risk/credit.py: one score per shopper, shared by every tool)."""

from __future__ import annotations

from fissionmall.core import clock
from fissionmall.risk import ask, engine
from tests.distribution.helpers import buy
from tests.helpers import ADDRESS, run_jobs
from tests.risk.helpers import Mall, build, customer_id, login, open_group, refused_by_risk, seckill_token, trust_proxy
from tests.seckill.helpers import loosen


async def _scripter(client, db, monkeypatch) -> tuple[Mall, dict, dict, dict, dict]:
    """The mall; a distributor who will script the sale and their bound buyer; an honest distributor and theirs."""
    trust_proxy(monkeypatch)
    ask.forget()
    m = await build(client, db)
    await loosen(client, m.boss, per_user=3, window_seconds=60)
    script = await login(client, "scripter", "scripter-phone", "192.0.2.30")
    r = await client.post("/api/v1/distribution/apply", headers=script)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    buyer = await login(client, "scripters-friend", "friend-phone", "192.0.2.31", ref=r.json()["share_code"])
    honest_buyer = await login(client, "honest-friend", "honest-friend-phone", "192.0.2.32", ref=m.share_code)
    await run_jobs(db)
    return m, script, buyer, m.distributor, honest_buyer


async def _script_the_sale(client, m: Mall, h: dict) -> None:
    """One genuine token replayed 30 times in a row, as a script does: spent-token refusals, then the rate
    limit's, then — reported as scripting — the risk layer's own (the attempt's cached standing)."""
    tok = (await seckill_token(client, h, m)).json()["token"]
    url = f"/api/v1/seckill/items/{m.seckill_item}/attempts"
    answers = [await client.post(url, json={"qty": 1, "token": tok, "address": ADDRESS}, headers=h) for _ in range(30)]
    codes = [r.json().get("error", {}).get("code", "OK") for r in answers]
    assert codes[:4] == ["OK", "BAD_TOKEN", "BAD_TOKEN", "RATE_LIMITED"], codes
    assert codes[-1] in ("RISK_DENIED", "RISK_FROZEN"), codes


async def _pending(client, h: dict) -> int:
    return int((await client.get("/api/v1/distribution/me", headers=h)).json()["pending_fen"])


async def _caught(client, db, monkeypatch):
    m, script, buyer, honest, honest_buyer = await _scripter(client, db, monkeypatch)
    await _script_the_sale(client, m, script)
    # denied for scripting the flash sale: no more tokens
    r = await seckill_token(client, script, m)
    assert refused_by_risk(r), r.text
    # …nor a group open, in another tool
    r = await open_group(client, script, m)
    assert refused_by_risk(r), r.text
    # …nor a commission on the friend's paid order, while the honest distributor earns on theirs
    item = [{"sku_id": m.sku_id, "qty": 1}]
    await buy(client, db, buyer, item)
    await buy(client, db, honest_buyer, item)
    assert (await _pending(client, script), await _pending(client, honest) > 0) == (0, True)
    return m, script, buyer


async def test_scripting_the_flash_sale_costs_group_opens_and_commissions_until_the_score_recovers(
    client, db, monkeypatch
):
    m, script, buyer = await _caught(client, db, monkeypatch)
    await engine.flush_now(db)  # what the engine writes within a second; the days below start from it
    clock.advance(6 * 86400)  # credit recovers by itself over the days
    try:
        r = await open_group(client, script, m)
        assert r.status_code == 201, r.text
        await buy(client, db, buyer, [{"sku_id": m.sku_id, "qty": 1}])
        assert await _pending(client, script) > 0
    finally:
        clock.set_offset(0)


async def test_an_operator_clearing_the_score_restores_the_shopper_at_once(client, db, monkeypatch):
    m, script, buyer = await _caught(client, db, monkeypatch)
    sid = await customer_id(client, script)
    r = await client.put(f"/api/admin/v1/risk/credit/{sid}", json={"clear": True, "note": "误判"}, headers=m.boss)
    assert r.status_code == 200, r.text
    r = await open_group(client, script, m)
    assert r.status_code == 201, r.text
    await buy(client, db, buyer, [{"sku_id": m.sku_id, "qty": 1}])
    assert await _pending(client, script) > 0
