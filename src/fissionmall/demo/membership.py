"""The demo shop's member levels: the four-level ladder (普通 0, 白银 1000 元, 黄金 5000 元 9折, 钻石 2万元
8折包邮) with a 生日礼券 for 黄金 and 钻石, and the member day on the 18th (8折, 双倍积分), all through the
admin API. demo/campaigns.py calls `seed` (wired by the lead)."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN = "/api/admin/v1"
BIRTHDAY_COUPON = {
    "name": "会员生日礼券",
    "kind": "amount",
    "amount_fen": 2000,
    "threshold_fen": 9900,
    "valid_days": 30,
    "per_user_limit": 10,
    "issue_mode": "operator",  # not in the 领券中心: only the birthday job hands it out
}


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"demo membership: {r.request.method} {r.request.url.path} → {r.status_code} {r.text}")
    return r.json()


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The four levels (saved on first use), a birthday coupon on the upper two, the member day on the 18th."""
    levels = {lv["name"]: lv for lv in _ok(await c.get(f"{ADMIN}/membership/levels", headers=boss))}
    gift = _ok(await c.post(f"{ADMIN}/coupons/templates", json=BIRTHDAY_COUPON, headers=boss))
    for name in ("黄金会员", "钻石会员"):
        body = {"birthday_template_id": gift["id"], "priority_service": name == "钻石会员"}
        _ok(await c.put(f"{ADMIN}/membership/levels/{levels[name]['id']}", json=body, headers=boss))
    day = {"enabled": True, "day_of_month": 18, "extra_rate_bp": 8000, "double_points": True}
    _ok(await c.put(f"{ADMIN}/membership/member-day", json=day, headers=boss))
    return {"levels": list(levels), "member_day": 18, "birthday_template_id": gift["id"]}
