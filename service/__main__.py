"""Command line: `python -m service run | migrate | create-admin`.

The one place that reads the environment (through `load_settings`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from service.settings import Settings, load_settings


async def _migrate(settings: Settings) -> str:
    from service.database import make_engine, resolve_database_url, run_migrations

    url = await resolve_database_url(settings)
    engine = make_engine(url)
    await run_migrations(engine)
    return url


async def _create_admin(settings: Settings, phone: str, password: str, display_name: str) -> None:
    from service.accounts.services import create_admin
    from service.database import bind_tables, make_engine

    engine = make_engine(await _migrate(settings))
    bind_tables(engine)
    row = await create_admin(phone=phone, password=password, display_name=display_name)
    print(f"admin {row['id']} created")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description="南粤家政 registry and matcher")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply migrations, then serve on HOST:PORT")
    commands.add_parser("migrate", help="apply pending database migrations")
    admin = commands.add_parser("create-admin", help="create a bureau admin account")
    admin.add_argument("--phone", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--display-name", default="管理员")
    args = parser.parse_args(argv)

    settings = load_settings()
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
    elif args.command == "create-admin":
        from service.errors import AppError

        try:
            asyncio.run(_create_admin(settings, args.phone, args.password, args.display_name))
        except AppError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 1
    elif args.command == "run":
        import uvicorn

        from service.app import create_app
        from service.observability import serve_metrics

        url = asyncio.run(_migrate(settings))
        settings = _with_database(settings, url)
        serve_metrics(settings.metrics_host, settings.metrics_port)
        uvicorn.run(create_app(settings), **server_options(settings))
    return 0


def server_options(settings: Settings) -> dict:
    """How uvicorn serves the app. Its own proxy-header handling stays off (it would take
    X-Forwarded-For from any local peer): `service.security.client_address` decides the
    client address, believing forwarded headers only from TRUSTED_PROXIES."""
    return {"host": settings.host, "port": settings.port, "log_config": None, "proxy_headers": False,
            "access_log": False}


def _with_database(settings: Settings, url: str) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, database_url=url)


if __name__ == "__main__":
    sys.exit(main())
