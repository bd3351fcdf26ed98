"""`fissionmall …`: serve, worker, migrate, demo, create-admin, reset-admin."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import typer
import uvicorn

from fissionmall import serving
from fissionmall.settings import get_settings, use_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fissionmall: a marketing-driven mall engine.")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    from fissionmall.core.migrate import upgrade

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)
    typer.echo(f"migrated {settings.db_url.split('@')[-1]}")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the API, the console and the shop (embedded mode also runs the job worker)."""
    _logging()
    settings = get_settings()
    if workers > 1 and settings.is_sqlite:
        typer.echo("note: SQLite serialises writes; more than one worker process gains little", err=True)
    if workers > 1 and not settings.redis_url:
        typer.echo("note: without Redis, rate limits and caches are per process", err=True)
    if workers > 1 and serving.supported():
        # one listening socket per process (SO_REUSEPORT): connections spread evenly (fissionmall/serving.py)
        raise typer.Exit(serving.run("fissionmall.asgi:app", host=host, port=port, workers=workers))
    if workers > 1:  # uvicorn's own workers: the Prometheus counters go through files all the same
        from fissionmall.core.metrics import prepare_multiprocess

        prepare_multiprocess(settings.var_dir)
    uvicorn.run(
        "fissionmall.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run the job worker (events, timers, periodic jobs) until SIGINT/SIGTERM."""
    _logging()
    from fissionmall.core import jobs
    from fissionmall.core.db import init_db
    from fissionmall.core.kv import init_kv
    from fissionmall.models import load_handlers
    from fissionmall.payments.wechatpay.gateway import register_gateways

    settings = get_settings()
    load_handlers()

    async def main() -> None:
        use_settings(settings)
        db = init_db(settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        init_kv(settings.redis_url, settings.redis_prefix)
        register_gateways(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await jobs.run_worker(
            db, stop, poll_seconds=settings.worker_poll_seconds, max_attempts=settings.job_max_attempts
        )
        await db.dispose()

    asyncio.run(main())


def _with_db(work: Callable[[Any], Awaitable[Any]]) -> None:
    """Run one piece of console-user work against the configured database; a refusal exits 1 with its code."""
    from fissionmall.core.db import Database
    from fissionmall.core.errors import AppError

    async def main() -> None:
        db = Database(get_settings().db_url)
        try:
            await work(db)
        finally:
            await db.dispose()

    try:
        asyncio.run(main())
    except AppError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command("create-admin")
def create_admin(
    username: str = typer.Option(...), password: str = typer.Option(...), role: str = typer.Option("owner")
) -> None:
    """Create a console user (roles: owner, operator, finance, store_staff)."""
    from fissionmall.accounts import service

    async def create(db: Any) -> None:
        async with db.tx() as s:
            await service.create_admin(s, username=username, password=password, role=role)

    _with_db(create)
    typer.echo(f"created {role} {username}")


@app.command("reset-admin")
def reset_admin(
    username: str = typer.Option(...),
    password: str | None = typer.Option(None, help="a new password; ends every session of this admin"),
) -> None:
    """Lift a console user's login lockout (and optionally set a new password)."""
    from fissionmall.accounts import service

    _with_db(lambda db: service.reset_admin(db, username=username, new_password=password))
    typer.echo(f"unlocked {username}" + (" with a new password; its sessions are ended" if password else ""))


@app.command("fake-wechat", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def fake_wechat(ctx: typer.Context) -> None:
    """Run the local WeChat Pay + mini-program fakes for front-end developers (see docs/wechat.md)."""
    from fissionmall.wechat.fake import main

    raise typer.Exit(main(list(ctx.args)))


class _DemoServer(uvicorn.Server):
    """uvicorn's server that prints the demo's ready banner once its port is bound (not before)."""

    banner: tuple[str, ...] = ()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            typer.echo("\n".join(self.banner), nl=True)


def _demo_banner(host: str, port: int, password: str, share_code: str | None) -> list[str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # a wildcard bind: show a URL one can open
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    lines = ["", "  fissionmall demo is ready", f"  shop (H5):    {base}/shop/"]
    lines.append(f"  console:      {base}/admin/   user: admin   password: {password}")
    lines.append(f"  API docs:     {base}/docs")
    if share_code:
        lines.append(f"  share link:   {base}/shop/?ref={share_code}   (demo distributor's code {share_code})")
    if shown != host:
        lines.append(f"  listening on {host}:{port}: from another machine use this machine's address")
    lines += ["  Ctrl-C stops it; data stays in ./var/ for next time.", ""]
    return lines


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000, load_only: bool = False) -> None:
    """Migrate, load the demo shop once (kept across runs), print logins once the port is bound, and serve."""
    from fissionmall.demo.campaigns import load_campaigns, saved_info
    from fissionmall.demo.loader import DEMO_ENV, load_demo

    # The demo shop's 客服 contact and return address (made up), unless the environment names its own.
    for name, value in DEMO_ENV.items():
        os.environ.setdefault(name, value)
    settings = get_settings()
    if not settings.dev:
        typer.echo("refusing to load demo data outside FISSIONMALL_ENV=dev", err=True)
        raise typer.Exit(1)
    migrate()
    password_file = settings.var_dir / "admin-password.txt"
    password = password_file.read_text().strip() if password_file.exists() else secrets.token_urlsafe(9)
    created = asyncio.run(load_demo(settings, admin_password=password))
    if created:
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    else:
        typer.echo("demo data already loaded (kept from the last run); delete ./var/ to start afresh")
    if created or not saved_info(settings):  # campaigns once (they skip themselves if coupons exist)
        try:
            asyncio.run(load_campaigns(settings, admin_password=password))
        except RuntimeError as exc:
            typer.echo(f"error: the demo campaigns did not load: {exc}", err=True)
            typer.echo("delete ./var/ to start afresh", err=True)
            raise typer.Exit(1) from exc
    banner = _demo_banner(host, port, password, saved_info(settings).get("share_code"))
    if load_only:
        typer.echo("\n".join(banner))
        return
    _logging()
    config = uvicorn.Config(
        "fissionmall.asgi:app", host=host, port=port, log_level="info", proxy_headers=False, access_log=False
    )
    server = _DemoServer(config)
    server.banner = tuple(banner)
    server.run()
    if not server.started:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
