"""schemathesis, with all its checks, as an admin, an employer, a worker and an agency key,
against the service running on this run's database: a few examples per operation.
`scripts/fuzz_api.py` runs the longer version."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_api.py"
EXAMPLES_PER_OPERATION = 2


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_api", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_schemathesis_finds_nothing(settings):
    fuzz_api = _fuzz_module()
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "DATA_KEY": settings.data_key,
        "STORE_NAMESPACE": settings.store_namespace + "-fuzz",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "ALLOW_PRIVATE_WEBHOOKS": "true",
        "RUN_DISPATCHER": "false",
        "WARM_MATCHER": "false",
        "LOG_LEVEL": "ERROR",
        "REDIS_URL": settings.redis_url or "",
    }
    with fuzz_api.serve(env) as (base, phone, password, read_code):
        callers = fuzz_api.make_callers(base, phone, password, read_code)
        assert set(callers) == {"admin", "employer", "worker", "agency"}
        outcomes = fuzz_api.fuzz(
            base,
            callers,
            max_examples=EXAMPLES_PER_OPERATION,
            phases="examples,fuzzing",
            seed=20261127,
            only_allowed=True,
        )
    assert [o.caller for o in outcomes] == ["admin", "employer", "worker", "agency"]
    for outcome in outcomes:
        assert "passed" in outcome.output, outcome.output[-3000:]
        assert outcome.returncode == 0, f"as {outcome.caller}:\n{outcome.output[-6000:]}"
