"""Fuzz the API from its OpenAPI document with schemathesis, as each kind of caller.

    .venv/bin/python scripts/fuzz_api.py                      # start the service, fuzz it, stop it
    .venv/bin/python scripts/fuzz_api.py --base-url http://127.0.0.1:8000 \\
        --admin-phone 13900000001 --admin-password "…" --server-log server.log   # a running server

Without `--base-url` it serves the app itself (`python -m service run` on a free local
port, with the environment's DATABASE_URL/REDIS_URL and a fresh admin). It then makes an
employer, a worker (with her record, consented) and a housekeeping agency with a key,
and runs `schemathesis run --checks all` once per caller (admin, employer, worker,
agency). Exit status 0 means no check failed. The test suite runs a short version.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "scripts" / "schemathesis.toml"
CALLERS = ("admin", "employer", "worker", "agency")


@dataclass
class Outcome:
    caller: str
    returncode: int
    output: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _phone() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


def _id_number(born: date, order: int) -> str:
    from service.registry.domain import id_check_digit

    body = f"441802{born:%Y%m%d}{order:03d}"
    return body + id_check_digit(body)


def code_reader(log_path: Path) -> Callable[[str], str]:
    """Reads one-time codes where a developer does: the development SMS sender's log lines
    ("SMS to 138****8000: ... 123456 ..."). The phone is masked, so a code counts only from
    a line for the same masked phone written after the last code this reader returned: an
    older line, for someone else or from before, is never taken for the new one."""
    seen = 0

    def read(phone: str) -> str:
        nonlocal seen
        masked = f"SMS to {phone[:3]}****{phone[-4:]}"
        for _ in range(100):
            lines = [line for line in log_path.read_text(errors="replace").splitlines() if "SMS to" in line]
            for number, line in enumerate(lines[seen:], start=seen):
                if masked in line:
                    found = re.findall(r"(?<!\d)(\d{6})(?!\d)", line.split(masked, 1)[1])
                    if found:
                        seen = number + 1
                        return found[-1]
            time.sleep(0.1)
        raise RuntimeError(
            f"no SMS code for {masked} in {log_path} (the server needs SMS_SENDER=log and LOG_LEVEL=INFO)"
        )

    return read


@contextmanager
def serve(env: dict[str, str] | None = None) -> Iterator[tuple[str, str, str, Callable[[str], str]]]:
    """Run the service on a free port; yield (base URL, admin phone, admin password, code reader)."""
    port = _free_port()
    environ = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(_free_port()),
        **(env or {}),
        "SMS_SENDER": "log",
        "LOG_LEVEL": "INFO",
    }
    phone, password = _phone(), "admin-" + secrets.token_urlsafe(12)
    python = sys.executable
    subprocess.run(
        [python, "-m", "service", "create-admin", f"--phone={phone}", f"--password={password}"],
        env=environ,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    log_dir = tempfile.TemporaryDirectory()
    log_path = Path(log_dir.name) / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [python, "-m", "service", "run"], env=environ, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service did not start: " + log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        yield base, phone, password, code_reader(log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        log_dir.cleanup()


def make_callers(
    base: str, admin_phone: str, admin_password: str, read_code: Callable[[str], str]
) -> dict[str, dict[str, str]]:
    """The header each kind of caller sends; creates the people and records it needs."""
    with httpx.Client(base_url=base, timeout=30) as http:

        def call(method: str, path: str, headers: dict | None = None, **kwargs) -> dict:
            response = http.request(method, path, headers=headers, **kwargs)
            if response.status_code >= 400:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            return response.json() if response.content else {}

        def login(phone: str, password: str) -> dict[str, str]:
            token = call("POST", "/api/v1/auth/token", json={"phone": phone, "password": password})
            return {"Authorization": f"Bearer {token['access_token']}"}

        def person(role: str) -> tuple[str, dict[str, str]]:
            phone, password = _phone(), "fuzz-" + secrets.token_urlsafe(12)
            call("POST", "/api/v1/phone-codes", json={"phone": phone, "purpose": "register"})
            call(
                "POST",
                "/api/v1/accounts",
                json={
                    "role": role,
                    "phone": phone,
                    "password": password,
                    "display_name": "测试",
                    "phone_code": read_code(phone),
                },
            )
            return phone, login(phone, password)

        admin = login(admin_phone, admin_password)
        _, employer = person("employer")
        worker_phone, worker = person("worker")
        born = date(1985, 3, 7)
        record = call(
            "POST",
            "/api/v1/workers",
            headers=worker,
            json={
                "real_name": "陈秀英",
                "gender": "female",
                "birth_date": born.isoformat(),
                "id_number": _id_number(born, 100 + 2 * secrets.randbelow(400)),
                "phone": worker_phone,
                "district_codes": ["441802"],
                "categories": ["maternity"],
                "skills": ["maternity_postpartum_care"],
                "wage_min": 7000,
                "wage_max": 9000,
            },
        )
        call("POST", f"/api/v1/workers/{record['id']}/consent", headers=worker, json={})
        agency = call(
            "POST",
            "/api/v1/agencies",
            headers=admin,
            json={
                "name": "清远市测试家政服务有限公司",
                "kind": "housekeeping",
                "district_code": "441802",
                "credit_code": "914418" + "".join(secrets.choice("0123456789") for _ in range(12)),
            },
        )
        key = call("POST", f"/api/v1/agencies/{agency['id']}/api-keys", headers=admin, json={})
        call(
            "POST",
            "/api/v1/job-requests",
            headers=employer,
            json={
                "category": "maternity",
                "district_code": "441802",
                "start_date": "2027-03-01",
                "budget_min": 6000,
                "budget_max": 9000,
            },
        )
    return {"admin": admin, "employer": employer, "worker": worker, "agency": {"X-API-Key": key["key"]}}


ROLE_OF = {"admin": "admin", "employer": "employer", "worker": "worker", "agency": "housekeeping"}


def operations_for(base: str, caller: str, *, with_public: bool) -> list[str]:
    """Operation ids the caller's role may call (from `x-roles`), and the public ones if asked."""
    document = httpx.get(f"{base}/schema/openapi.json", timeout=30).json()
    chosen = []
    for item in document["paths"].values():
        for operation in item.values():
            if operation.get("x-public") and with_public or ROLE_OF[caller] in operation.get("x-roles", ()):
                chosen.append(operation["operationId"])
    return chosen


def fuzz(
    base: str,
    callers: dict[str, dict[str, str]],
    *,
    max_examples: int,
    phases: str,
    seed: int | None = None,
    max_time: int | None = None,
    only_allowed: bool = False,
    report_dir: Path | None = None,
) -> list[Outcome]:
    """`schemathesis run --checks all` once per caller, the callers side by side.

    With `only_allowed`, each caller fuzzes only the operations its role may call, and only
    the first caller the public ones (the short run in the test suite)."""
    running = []
    for number, (caller, headers) in enumerate(callers.items()):
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/schema/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--phases",
            phases,
            "--workers",
            "1",
            "--no-color",
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
        ]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        if seed is not None:
            command += ["--seed", str(seed)]
        if max_time is not None:
            command += ["--max-time", str(max_time)]
        if only_allowed:
            for operation_id in operations_for(base, caller, with_public=number == 0):
                command += ["--include-operation-id", operation_id]
        if report_dir is not None:
            command += ["--report", "junit", "--report-dir", str(report_dir / caller)]
        running.append(
            (caller, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        )
    outcomes = []
    for caller, process in running:
        output, _ = process.communicate()
        outcomes.append(Outcome(caller, process.returncode, output))
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running server; without it the service is started here")
    parser.add_argument("--admin-phone")
    parser.add_argument("--admin-password")
    parser.add_argument("--server-log", help="the running server's log (SMS_SENDER=log), to read phone codes")
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-time", type=int, help="seconds per caller")
    parser.add_argument("--callers", default=",".join(CALLERS))
    parser.add_argument(
        "--only-allowed", action="store_true", help="each caller fuzzes only what its role may call (faster)"
    )
    args = parser.parse_args()

    def run(base: str, phone: str, password: str, read_code: Callable[[str], str]) -> int:
        callers = make_callers(base, phone, password, read_code)
        chosen = {c: callers[c] for c in args.callers.split(",")}
        failed = 0
        for outcome in fuzz(
            base,
            chosen,
            max_examples=args.max_examples,
            phases=args.phases,
            seed=args.seed,
            max_time=args.max_time,
            only_allowed=args.only_allowed,
        ):
            print(f"===== as {outcome.caller}: exit {outcome.returncode}\n{outcome.output}")
            failed += outcome.returncode != 0
        return 1 if failed else 0

    if args.base_url:
        if not (args.admin_phone and args.admin_password and args.server_log):
            parser.error("--base-url needs --admin-phone, --admin-password and --server-log")
        return run(args.base_url, args.admin_phone, args.admin_password, code_reader(Path(args.server_log)))
    with serve() as (base, phone, password, read_code):
        return run(base, phone, password, read_code)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
