"""Command line: `nanyue run | migrate | create-admin | rotate-keys | erase-due | stop-db` (also `python -m service`).

The one place that reads the environment (through `load_settings`). With no
DATABASE_URL the commands start the embedded PostgreSQL and stop it again when they end,
also on SIGTERM or Ctrl-C; `stop-db` stops one left running by a process that was killed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from service.settings import ENV_VARIABLES, Settings, SettingsError, load_settings

DESCRIPTION = "南粤家政 worker registry and job matcher. Settings come from environment variables (and .env)."


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


async def _bound(settings: Settings):
    from service.database import bind_tables, make_engine

    engine = make_engine(await _migrate(settings))
    bind_tables(engine)
    await engine.start_connection_pool(min_size=1, max_size=2)
    return engine


async def _rotate_keys(settings: Settings) -> None:
    import json

    from service.privacy.keys import rotate
    from service.security import IdNumberCipher

    engine = await _bound(settings)
    try:
        done = await rotate(IdNumberCipher(settings.data_keys, settings.data_key_version))
    finally:
        await engine.close_connection_pool()
    print(json.dumps(done, ensure_ascii=False))


async def _erase_due(settings: Settings) -> None:
    from service.privacy.services import erase_due

    engine = await _bound(settings)
    try:
        erased = await erase_due(retention_days=settings.erasure_retention_days)
    finally:
        await engine.close_connection_pool()
    print(f"erased {len(erased)} worker record(s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nanyue",
        description=DESCRIPTION,
        epilog="environment variables: " + ", ".join(ENV_VARIABLES) + " (see README: Configuration)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="apply migrations, then serve on HOST:PORT",
        description="Apply pending migrations, then serve the API on HOST:PORT.",
    )
    commands.add_parser(
        "migrate",
        help="apply pending database migrations",
        description="Apply every pending Piccolo migration, then exit.",
    )
    admin = commands.add_parser(
        "create-admin",
        help="create a bureau admin account",
        description="Create a bureau admin. Without --password the password is asked for.",
    )
    admin.add_argument("--phone", required=True, help="the admin's mobile number (logs in with it)")
    admin.add_argument("--password", help="the password; omit it to type it at a prompt (safer: not in shell history)")
    admin.add_argument("--display-name", default="管理员", help="name shown in decisions (default: 管理员)")
    commands.add_parser(
        "rotate-keys",
        help="re-encrypt ID numbers and secrets with the current DATA_KEY",
        description="After a data-key rotation (new DATA_KEY and DATA_KEY_VERSION, the old key in "
        "OLD_DATA_KEYS): re-encrypt every ciphertext and rewrite every blind index under the current "
        "version, then print what was done and what is left on earlier versions.",
    )
    commands.add_parser(
        "erase-due",
        help="erase the personal fields of workers whose erasure request passed the retention period",
        description="Erase the personal fields of every worker who asked for erasure more than "
        "ERASURE_RETENTION_DAYS ago (the running service also does this hourly).",
    )
    commands.add_parser(
        "stop-db",
        help="stop the embedded PostgreSQL in VAR_DIR/pg if one is running",
        description="Stop an embedded PostgreSQL left running in VAR_DIR/pg.",
    )
    return parser


def _ask_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if line:
            return line
        raise SystemExit("error: 密码为空 (no password given: pass --password or type it at the prompt)")
    password = getpass.getpass("密码 (password): ")
    if password != getpass.getpass("再输一次 (again): "):
        raise SystemExit("error: 两次输入不一致 (the passwords differ)")
    return password


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import signal

    from service.database import embedded_servers_in_use, exit_on_sigterm, release_embedded_servers

    already_held = embedded_servers_in_use()
    previous_handler = exit_on_sigterm()
    try:
        return _command(args, settings)
    except KeyboardInterrupt:
        return 130
    finally:
        release_embedded_servers(keep=already_held)
        signal.signal(signal.SIGTERM, previous_handler)


def _command(args: argparse.Namespace, settings: Settings) -> int:
    from service.database import EmbeddedPostgresMissing
    from service.errors import AppError

    try:
        if args.command == "stop-db":
            from service.database import stop_embedded_server

            stopped = stop_embedded_server(settings.var_dir / "pg")
            print("embedded PostgreSQL stopped" if stopped else "no embedded PostgreSQL running")
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("migrations applied")
        elif args.command == "rotate-keys":
            asyncio.run(_rotate_keys(settings))
        elif args.command == "erase-due":
            asyncio.run(_erase_due(settings))
        elif args.command == "create-admin":
            password = args.password if args.password is not None else _ask_password()
            asyncio.run(_create_admin(settings, args.phone, password, args.display_name))
        elif args.command == "run":
            import uvicorn

            from service.app import create_app
            from service.observability import configure_logging, serve_metrics, share_metrics_across_processes

            configure_logging(settings.log_level)
            url = asyncio.run(_migrate(settings))
            settings = _with_database(settings, url)
            if settings.workers > 1:
                # The workers write their metrics into this run's directory; /metrics adds them up.
                serve_metrics(settings.metrics_host, settings.metrics_port, share_metrics_across_processes())
            else:
                serve_metrics(settings.metrics_host, settings.metrics_port)
            if settings.workers > 1:
                # Each process builds the app from the environment; they find the database
                # this process resolved (it may be the embedded one started here).
                os.environ["DATABASE_URL"] = url
                uvicorn.run("service.app:app_from_environment", factory=True, **server_options(settings))
            else:
                uvicorn.run(create_app(settings), **server_options(settings))
    except (AppError, EmbeddedPostgresMissing) as exc:
        print(f"error: {getattr(exc, 'detail', None) or exc}", file=sys.stderr)
        return 1
    return 0


def server_options(settings: Settings) -> dict:
    """How uvicorn serves the app. Its own proxy-header handling stays off (it would take
    X-Forwarded-For from any local peer): `service.security.client_address` decides the
    client address, believing forwarded headers only from TRUSTED_PROXIES."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "proxy_headers": False,
        "access_log": False,
        "workers": settings.workers,
    }


def _with_database(settings: Settings, url: str) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, database_url=url)


if __name__ == "__main__":
    sys.exit(main())
