"""The one place that reads the environment (prefix FISSIONMALL_, `.env` supported)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# 32+ bytes, as HS256 wants (PyJWT warns on a shorter key); prod refuses it (_prod_guards) all the same.
DEFAULT_SECRET = "dev-secret-change-me-not-for-production-use"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FISSIONMALL_", env_file=".env", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    database_url: str = ""
    redis_url: str = ""
    # PostgreSQL connections per process (each `serve` worker and each `worker` holds its own pool):
    # keep workers × (size + overflow) under the server's max_connections (100 by default).
    db_pool_size: int = 20
    db_max_overflow: int = 30
    redis_prefix: str = "fm:"
    secret_key: str = DEFAULT_SECRET
    trusted_proxies: Annotated[list[str], NoDecode] = []
    var_dir: Path = Path("var")
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Shanghai"

    # The worker runs inside `serve` unless production runs it as its own processes.
    embedded_worker: bool | None = None
    worker_poll_seconds: float = 0.5
    job_max_attempts: int = 8

    token_ttl_seconds: int = 7 * 24 * 3600
    admin_token_ttl_seconds: int = 12 * 3600

    # Order rules (shop-level defaults an operator can later override).
    unpaid_cancel_minutes: int = 30
    auto_receive_days: int = 10
    after_sales_days: int = 7
    # After-sales timers (orders/aftersales.py): the merchant's days to answer a request (then it is approved),
    # the shopper's days to send a return back (then it closes), the merchant's days to confirm receipt.
    refund_answer_days: int = 2
    return_ship_days: int = 7
    return_receive_days: int = 7
    return_address: str = ""  # where returns go (shown on approval unless the merchant types another)
    shipping_fee_fen: int = 800
    max_line_qty: int = 999
    max_order_lines: int = 50
    # The console's order export (docs/orders.md): more rows than this is refused (EXPORT_TOO_LARGE).
    export_max_rows: int = 200_000

    # 客服 (the shop's "联系客服"): a phone number (H5 shows a tel: link) and a WeChat id (H5 offers to copy
    # it). The mini-program's WeChat 客服 button (open-type="contact") needs neither; it reads
    # `service_wechat_enabled` from GET /api/v1/shop/info to decide whether to show the button.
    service_phone: str = ""
    service_wechat: str = ""
    service_wechat_enabled: bool = True
    service_hours: str = ""

    payment_gateway: Literal["sandbox", "wechatpay"] = "sandbox"
    allow_sandbox_in_prod: bool = False

    # WeChat (docs/wechat.md). Empty means "not configured": dev uses the sandbox twins.
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # The mini-program page a share code opens (it reads the scene, e.g. "r=CODE&p=12"); "" = the home page.
    # WeChat takes it without a leading slash and without a query string (the scene carries the data).
    wechat_share_page: str = ""
    # Which build share codes open and subscribe messages jump to: release, or trial / develop while testing.
    wechat_env_version: Literal["release", "trial", "develop"] = "release"
    wechat_mch_id: str = ""
    wechat_mch_private_key: str = ""  # PEM text, or:
    wechat_mch_private_key_path: Path | None = None
    wechat_mch_serial: str = ""
    wechat_apiv3_key: str = ""
    wechat_platform_public_key: str = ""  # PEM text, or:
    wechat_platform_public_key_path: Path | None = None
    wechat_platform_public_key_id: str = ""
    wechat_pay_base_url: str = "https://api.mch.weixin.qq.com"
    wechat_notify_base_url: str = ""  # defaults to base_url
    wechat_notify_max_age_seconds: int = 300
    wechat_http_timeout_seconds: float = 10.0
    wechat_profit_sharing: bool = False
    wechat_transfer_scene_id: str = "1005"
    wechat_reconcile_after_minutes: int = 10
    # Subscribe messages (订阅消息) by event, as JSON: {"OrderShipped": {"template_id": "…",
    # "page": "pages/order/detail?id={order_id}", "data": {"character_string1": "{order_no}",
    # "thing2": "{title}"}}}. Events without an entry send nothing. See docs/wechat.md.
    wechat_subscribe_templates: dict[str, dict[str, Any]] = {}

    # Anti-abuse basics: requests per minute per client on login and checkout.
    login_rate_per_minute: int = 30
    order_rate_per_minute: int = 60
    # The one risk layer (docs/risk.md): every tool asks `risk.decisions.check` before it gives a benefit.
    # Off: no tool asks (the flash-sale bench measures the layer's cost with it on and off).
    risk_enabled: bool = True

    # Benchmark instrumentation (core/sqlstats.py): count SQL statements and transactions per process into
    # <var_dir>/sql-stats/<pid>.json. Off by default; nothing is counted or exposed then.
    sql_stats: bool = False

    # GET /metrics (core/metrics.py, docs/monitor.md): with a token, Prometheus sends it as a bearer token
    # (from any address); without one, only callers from these networks are answered (loopback by default;
    # the client address is the X-Forwarded-For hop when the peer is a trusted proxy).
    metrics_token: str = ""
    metrics_allow: Annotated[list[str], NoDecode] = ["127.0.0.0/8", "::1/128"]

    # Product media (docs/media.md): uploads are checked by content, resized and stored in the local media
    # directory or an S3-compatible bucket. Stored URLs are always /media/...; with s3 the app answers them
    # with a permanent redirect to MEDIA_S3_PUBLIC_URL + the key.
    media_storage: Literal["local", "s3"] = "local"
    media_max_bytes: int = 10 * 1024 * 1024
    media_max_pixels: int = 40_000_000  # width × height of an upload; more is refused as a decompression bomb
    media_s3_bucket: str = ""
    media_s3_endpoint_url: str = ""  # empty: AWS itself
    media_s3_region: str = ""
    media_s3_access_key: str = ""  # empty: boto3's own credential chain (environment, instance role)
    media_s3_secret_key: str = ""
    media_s3_public_url: str = ""  # the base URL shoppers load the bucket's files from (a CDN, the bucket)
    # A canned ACL put on each file (e.g. public-read); empty when a bucket policy or the CDN grants reading.
    media_s3_acl: str = ""

    @field_validator("trusted_proxies", "metrics_allow", mode="before")
    @classmethod
    def _split_proxies(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _valid_proxies(cls, v: list[str]) -> list[str]:
        for p in v:
            ip_network(p, strict=False)  # raises on a typo instead of silently trusting nobody
        return v

    @field_validator("wechat_share_page")
    @classmethod
    def _share_page(cls, v: str) -> str:
        from fissionmall.subscribe_fields import normalize_page

        page = normalize_page(v)
        if "?" in page or any(ch.isspace() for ch in page):
            raise ValueError(
                f"FISSIONMALL_WECHAT_SHARE_PAGE {v!r}: a page path like pages/index/index, "
                "without a query string (the share code's scene carries the data) or spaces"
            )
        return page

    @field_validator("wechat_subscribe_templates")
    @classmethod
    def _subscribe_templates(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from fissionmall.subscribe_fields import check_templates

        return check_templates(v)

    @model_validator(mode="after")
    def _prod_guards(self) -> Settings:
        if self.env == "prod":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError("FISSIONMALL_SECRET_KEY must be set (32+ chars) when FISSIONMALL_ENV=prod")
            if self.payment_gateway == "sandbox" and not self.allow_sandbox_in_prod:
                raise ValueError(
                    "the sandbox payment gateway is refused in prod; set FISSIONMALL_PAYMENT_GATEWAY "
                    "or FISSIONMALL_ALLOW_SANDBOX_IN_PROD=true"
                )
        if self.media_storage == "s3" and not (self.media_s3_bucket and self.media_s3_public_url):
            raise ValueError("FISSIONMALL_MEDIA_STORAGE=s3 needs FISSIONMALL_MEDIA_S3_BUCKET and _S3_PUBLIC_URL")
        if self.payment_gateway == "wechatpay" and not self.wechat_pay_configured:
            raise ValueError(
                "FISSIONMALL_PAYMENT_GATEWAY=wechatpay needs FISSIONMALL_WECHAT_APP_ID, _MCH_ID, "
                "_MCH_PRIVATE_KEY(_PATH), _MCH_SERIAL, _APIV3_KEY, "
                "_PLATFORM_PUBLIC_KEY(_PATH) and _PLATFORM_PUBLIC_KEY_ID"
            )
        return self

    @property
    def wechat_pay_configured(self) -> bool:
        return bool(
            self.wechat_app_id
            and self.wechat_mch_id
            and (self.wechat_mch_private_key or self.wechat_mch_private_key_path)
            and self.wechat_mch_serial
            and self.wechat_apiv3_key
            and (self.wechat_platform_public_key or self.wechat_platform_public_key_path)
            and self.wechat_platform_public_key_id
        )

    @property
    def wechat_miniprogram_state(self) -> str:
        """`miniprogram_state` of subscribe messages for `wechat_env_version`."""
        return {"release": "formal", "trial": "trial", "develop": "developer"}[self.wechat_env_version]

    @property
    def wechat_login_configured(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)

    def wechat_mch_private_key_pem(self) -> str:
        if self.wechat_mch_private_key:
            return self.wechat_mch_private_key
        return self.wechat_mch_private_key_path.read_text() if self.wechat_mch_private_key_path else ""

    def wechat_platform_public_key_pem(self) -> str:
        if self.wechat_platform_public_key:
            return self.wechat_platform_public_key
        return self.wechat_platform_public_key_path.read_text() if self.wechat_platform_public_key_path else ""

    @property
    def dev(self) -> bool:
        return self.env == "dev"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'fissionmall.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def run_worker_in_serve(self) -> bool:
        if self.embedded_worker is not None:
            return self.embedded_worker
        return self.is_sqlite

    @property
    def media_dir(self) -> Path:
        return self.var_dir / "media"

    @property
    def media_public_base(self) -> str:
        """Where shoppers' browsers load stored media from: "" for this origin, else the bucket's public URL."""
        return self.media_s3_public_url.rstrip("/") if self.media_storage == "s3" else ""


_current: Settings | None = None


@lru_cache
def _from_env() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings in force: the app's or worker's own (see `use_settings`), else the environment's."""
    return _current or _from_env()


def use_settings(settings: Settings | None) -> None:
    """Make `settings` the ones in force for this process (the app and the worker call this)."""
    global _current
    _current = settings
