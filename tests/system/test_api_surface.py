"""Errors, limits and the documented surface: what any caller can rely on."""

import json
import logging

from tests.factories import worker_body


def _problem(response):
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code and body["title"]
    return body


async def test_health_ready_and_metrics(client, settings):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "database": "ok",
        "store": "ok",
        "store_backend": "redis" if settings.redis_url else "memory",
        "matcher": {"loaded": False, "workers": 0, "skipped_rows": 0, "degraded": False},
        # The tests drive the dispatcher by hand.
        "dispatcher": {"running": False, "listening": False, "reconnects": 0, "last_error": ""},
    }
    # Metrics are served on their own address (tests/security/test_metrics_address.py).
    assert (await client.get("/metrics")).status_code == 404


async def test_every_operation_is_documented(client):
    schema = (await client.get("/schema/openapi.json")).json()
    operations = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert len(operations) > 25
    ids = [op.get("operationId") for op in operations]
    assert all(ids) and len(ids) == len(set(ids))
    assert all(op.get("summary") for op in operations)
    assert "/api/v1/workers/{worker_id}" in schema["paths"]
    assert (await client.get("/schema")).status_code == 200


async def test_malformed_json_is_a_400_problem(client, actors):
    person = await actors.worker_account()
    response = await client.post(
        "/api/v1/workers",
        headers=person.headers | {"Content-Type": "application/json"},
        content='{"real_name": "陈'.encode(),
    )
    assert response.status_code == 400
    _problem(response)


async def test_wrong_types_missing_and_unknown_fields_name_the_field(client, actors):
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    cases = {
        "experience_years": body | {"experience_years": "six"},
        "wage_min": {k: v for k, v in body.items() if k != "wage_min"},
        "favourite_colour": body | {"favourite_colour": "red"},
        "location.lat": body | {"location": {"lat": 40.0, "lon": 113.0}},
        "phone": body | {"phone": "12345"},
    }
    for field, bad in cases.items():
        response = await client.post("/api/v1/workers", headers=person.headers, json=bad)
        assert response.status_code == 400, (field, response.text)
        problem = _problem(response)
        assert field in [e["field"] for e in problem["errors"]], (field, problem)
    assert (await client.get("/api/v1/workers/me", headers=person.headers)).status_code == 404  # nothing was saved


async def test_oversize_bodies_are_413(client, actors, settings):
    person = await actors.worker_account()
    huge = json.dumps(worker_body(phone=person.phone, real_name="陈" * settings.max_body_bytes))
    response = await client.post(
        "/api/v1/workers", headers=person.headers | {"Content-Type": "application/json"}, content=huge.encode()
    )
    assert response.status_code == 413
    _problem(response)


async def test_unknown_routes_and_methods_are_problems_not_500s(client, actors):
    admin = await actors.admin()
    assert _problem(await client.get("/api/v1/nothing-here", headers=admin.headers))["status"] == 404
    assert _problem(await client.put("/api/v1/accounts", json={}))["status"] == 405
    assert (await client.get("/api/v1/workers/not-a-number", headers=admin.headers)).status_code in (400, 404)


async def test_wrong_role_is_403(client, actors):
    employer = await actors.employer()
    response = await client.post(
        "/api/v1/agencies",
        headers=employer.headers,
        json={"name": "冒充的机构", "kind": "training", "district_code": "441802", "credit_code": "91441802MA4UABCD1X"},
    )
    assert response.status_code == 403
    _problem(response)


async def test_logs_never_carry_id_or_phone_numbers(client, actors, caplog):
    from service.observability import JsonFormatter

    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    logging.getLogger("service.test").warning("registering %s with %s", body["id_number"], body["phone"])
    record = caplog.records[-1]
    line = JsonFormatter().format(record)
    assert body["id_number"] not in line and body["phone"] not in line
    assert body["id_number"][:4] + "*" * 10 + body["id_number"][-4:] in line
    assert json.loads(line)["request_id"]


async def test_each_response_carries_a_request_id(client):
    response = await client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert len((await client.get("/health")).headers["x-request-id"]) == 16
