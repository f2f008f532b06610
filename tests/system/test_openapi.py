"""The OpenAPI document is a contract agencies can integrate from: who may call, every
error in one shape, headers, closed request bodies, examples that work, webhooks, and
documentation pages that need no internet access."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jsonschema_rs
import msgspec
import pytest

from service.accounts.guards import Role
from service.app import create_app
from service.events.services import EVENT_TYPES
from service.openapi import access_of, operations
from service.openapi_examples import EXAMPLE_ID_NUMBER, REQUEST_EXAMPLES, RESPONSE_EXAMPLES
from service.registry.domain import parse_id_number, today_local
from tests.conftest import in_app
from tests.factories import credit_code

SERVICE = Path(__file__).resolve().parents[2] / "service"
ERROR_STATUSES = {"400", "401", "403", "404", "409", "412", "413", "422", "428", "429", "503"}


@pytest.fixture(scope="module")
async def document(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _resolve(document, node):
    while "$ref" in node:
        name = node["$ref"].split("/")
        node = document
        for part in name[1:]:
            node = node[part]
    return node


def _validator(document, schema):
    """A JSON Schema validator for a fragment of the document, with its components."""
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


# Who may call -------------------------------------------------------------------------------


async def test_every_operation_declares_security_derived_from_its_guards(document, app):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == schemes["bearerAuth"] | {"type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"] | {"in": "header", "name": "X-API-Key"} == schemes["apiKeyAuth"]
    checked = 0
    for path, method, handler in operations(app):
        operation = document["paths"][path][method]
        assert "security" in operation, (method, path)
        public, roles, scopes = access_of(handler, path)
        if public:
            assert operation["security"] == [] and operation["x-public"] is True, (method, path)
            continue
        assert operation["security"], (method, path)
        used = {name for requirement in operation["security"] for name in requirement}
        assert used <= {"bearerAuth", "apiKeyAuth"}
        assert ("apiKeyAuth" in used) == bool(roles & {Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION})
        assert ("bearerAuth" in used) == bool(roles & {Role.EMPLOYER, Role.WORKER, Role.ADMIN})
        assert set(operation["x-roles"]) == {str(r) for r in roles}
        checked += 1
    assert checked > 40
    ops = {op["operationId"]: op for _, _, op in _operations(document)}
    # Read from the guards, not from a list: spot checks against the controllers.
    assert ops["createAgency"]["security"] == [{"bearerAuth": ["admin"]}]
    assert ops["createCertificate"]["security"] == [{"apiKeyAuth": ["certificates:write"]}]
    assert ops["createWorker"]["x-api-key-scopes"] == ["workers:write"]
    assert ops["acceptOffer"]["x-roles"] == ["worker"]
    for public in ("createAccount", "createToken", "listSkills", "health"):
        assert ops[public]["security"] == []


async def test_a_guard_the_document_names_is_the_one_the_server_enforces(client, actors, document):
    """The document says createAgency is for admins only: an employer is refused."""
    ops = {op["operationId"]: (path, op) for path, _, op in _operations(document)}
    path, operation = ops["createAgency"]
    assert "employer" not in operation["x-roles"]
    employer = await actors.employer()
    response = await client.post(path, headers=employer.headers, json=REQUEST_EXAMPLES["AgencyCreate"])
    assert response.status_code == 403


# Errors ---------------------------------------------------------------------------------------


async def test_every_operation_documents_its_errors_with_the_shared_problem(document):
    components = document["components"]
    problem = components["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    for path, method, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        if path.startswith("/api/"):
            assert "429" in errors, (method, path)  # the rate limiter covers every API route
        if operation["security"]:
            assert {"401", "403", "404"} <= set(errors), (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(errors), (method, path)
        if any(p.get("name") == "If-Match" for p in operation.get("parameters", [])):
            assert {"412", "428"} <= set(errors), (method, path)
        assert set(errors) <= ERROR_STATUSES, (method, path)
        for status, response in errors.items():
            if path == "/ready" and status == "503":
                continue
            resolved = _resolve(document, response)
            assert resolved["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
            example = resolved["content"]["application/problem+json"]["example"]
            _validator(document, problem).validate(example)
    assert "Retry-After" in components["responses"]["429"]["headers"]


async def test_real_error_answers_match_the_problem_schema(client, actors, document, settings):
    validator = _validator(document, {"$ref": "#/components/schemas/Problem"})
    admin = await actors.admin()
    person, worker = await actors.registered_worker()
    employer = await actors.employer()
    seen = {}

    async def record(response):
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        validator.validate(response.json())
        seen[response.status_code] = response.json()

    await record(await client.post("/api/v1/workers", headers=person.headers, json={"nope": 1}))  # 400
    await record(await client.get("/api/v1/workers/me"))  # 401
    await record(
        await client.post("/api/v1/agencies", headers=employer.headers, json=REQUEST_EXAMPLES["AgencyCreate"])
    )  # 403
    await record(await client.get("/api/v1/workers/999999", headers=admin.headers))  # 404
    agency = REQUEST_EXAMPLES["AgencyCreate"] | {"credit_code": credit_code()}
    assert (await client.post("/api/v1/agencies", headers=admin.headers, json=agency)).status_code == 201
    await record(await client.post("/api/v1/agencies", headers=admin.headers, json=agency))  # 409
    path = f"/api/v1/workers/{worker['id']}"
    await record(await client.patch(path, headers=person.headers | {"If-Match": '"1-99"'}, json={"live_in": False}))
    await record(await client.patch(path, headers=person.headers, json={"live_in": False}))  # 428
    await record(
        await client.post(
            "/api/v1/workers",
            headers=person.headers | {"Content-Type": "application/json"},
            content=b'{"real_name": "' + b"a" * settings.max_body_bytes + b'"}',
        )
    )  # 413
    await record(
        await client.post("/api/v1/workers/lookup", headers=admin.headers, json={"id_number": "441802198503071027"})
    )  # 422: check digit
    assert {400, 401, 403, 404, 409, 412, 413, 422, 428} <= set(seen), sorted(seen)
    assert seen[422]["errors"] == [{"field": "id_number", "message": "校验码不正确 (the check digit is wrong)"}]


async def test_a_rate_limited_answer_says_when_to_retry(settings, document):
    import httpx

    # A second app without its lifespan (which would rebind the tables): the limiter and the
    # authentication run before any handler, so an anonymous call answers 401, then 429.
    limited = create_app(msgspec.structs.replace(settings, rate_limit_per_minute=2, redis_url=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://127.0.0.1") as http:
        statuses = [(await http.get("/api/v1/accounts/me")).status_code for _ in range(2)]
        response = await http.get("/api/v1/accounts/me")
    assert statuses == [401, 401] and response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert response.headers["content-type"].startswith("application/problem+json")
    _validator(document, {"$ref": "#/components/schemas/Problem"}).validate(response.json())


async def test_the_document_is_built_once_in_a_thread_while_requests_are_served(settings, monkeypatch):
    import anyio
    import httpx

    from service import openapi

    built = []
    build = openapi.OpenAPIPlugin._build_openapi

    def counted(plugin):
        built.append(1)
        return build(plugin)

    monkeypatch.setattr(openapi.OpenAPIPlugin, "_build_openapi", counted)
    fresh = create_app(msgspec.structs.replace(settings, redis_url=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url="http://127.0.0.1") as http:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(anyio.to_thread.run_sync, openapi.prepare_openapi, fresh)
            while not built:  # until the thread is building
                await anyio.sleep(0.005)
            health = await http.get("/health")  # answered while the thread builds
            served = await http.get("/schema/openapi.json")
    assert health.status_code == 200 and served.status_code == 200
    assert built == [1]  # the request waited for the thread's document, it did not build its own
    assert served.json()["paths"] and "webhooks" in served.json()


# Headers and bodies -------------------------------------------------------------------------


async def test_headers_are_documented_where_they_are_used(document):
    ops = {op["operationId"]: op for _, _, op in _operations(document)}

    def parameters(op):
        return {_resolve(document, p)["name"] for p in op.get("parameters", [])}

    for name, op in ops.items():
        assert "X-Request-ID" in parameters(op), name
        for status, response in op["responses"].items():
            assert "X-Request-ID" in _resolve(document, response).get("headers", {}), (name, status)
    for name in (
        "createOffer",
        "acceptOffer",
        "declineOffer",
        "withdrawOffer",
        "completePlacement",
        "terminatePlacement",
        "createReview",
        "createComplaint",
        "decideComplaint",
        "appealComplaint",
        "decideAppeal",
        "createWebhook",
    ):
        assert "Idempotency-Key" in parameters(ops[name]), name
        success = [r for s, r in ops[name]["responses"].items() if s.startswith("2")]
        assert "Idempotent-Replayed" in success[0]["headers"], name
    assert "Idempotency-Key" not in parameters(ops["createWorker"])
    assert "If-Match" in parameters(ops["updateWorker"])
    for name in ("createWorker", "getWorker", "updateWorker", "getMyWorker", "claimWorker"):
        success = [r for s, r in ops[name]["responses"].items() if s.startswith("2")]
        assert "ETag" in success[0]["headers"], name


async def test_idempotent_operations_document_the_status_they_answer(client, actors, document):
    """`declineOffer` answers 200 through `idempotent(...)` although it is a POST."""
    ops = {op["operationId"]: op for _, _, op in _operations(document)}
    assert "200" in ops["declineOffer"]["responses"] and "201" not in ops["declineOffer"]["responses"]
    assert "201" in ops["acceptOffer"]["responses"]


async def test_optional_bodies_are_documented_as_optional(document):
    ops = {op["operationId"]: op for _, _, op in _operations(document)}
    assert ops["grantConsent"]["requestBody"]["required"] is False  # found by fuzzing: an empty body is fine
    assert ops["completePlacement"]["requestBody"]["required"] is False
    assert ops["createWorker"]["requestBody"]["required"] is True


async def test_request_bodies_refuse_unknown_fields(document):
    schemas = document["components"]["schemas"]
    bodies = set()
    for path, method, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        refs = [s["$ref"] for s in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])] if "$ref" in s]
        assert refs, (method, path)
        bodies.update(r.rsplit("/", 1)[1] for r in refs)
    assert len(bodies) > 20
    nested = {"Location", "RequiredCertificate"}
    for name in bodies | nested:
        assert schemas[name]["additionalProperties"] is False, name
        for field, prop in schemas[name]["properties"].items():
            text = prop.get("description", "")
            assert re.search(r"[\u4e00-\u9fff]", text) and re.search(r"\([0-9A-Za-z`]", text), (name, field, text)


async def test_business_rules_are_in_the_schema(document):
    schemas = document["components"]["schemas"]
    worker = schemas["WorkerCreate"]["properties"]
    assert "pattern" in _first(worker["phone"]) and _first(worker["experience_years"])["maximum"] == 60
    assert set(_first(worker["gender"])["enum"]) == {"female", "male"}
    assert _first(schemas["OfferCreate"]["properties"]["worker_id"])["minimum"] == 1


def _first(prop):
    for option in [prop, *prop.get("oneOf", []), *prop.get("anyOf", [])]:
        if option.get("type") not in (None, "null") or "enum" in option:
            return option
    return prop


# Examples ------------------------------------------------------------------------------------


async def test_request_examples_decode_with_the_structs(document, app):
    bodies = {}
    for _path, _method, handler in operations(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            continue
        annotation = data.annotation
        types = [t for t in getattr(annotation, "__args__", (annotation,)) if t is not type(None)]
        for struct in types:
            if isinstance(struct, type) and issubclass(struct, msgspec.Struct):
                bodies[struct.__name__] = struct
    assert len(bodies) > 20
    for name, struct in bodies.items():
        assert name in REQUEST_EXAMPLES, f"no request example for {name}"
        msgspec.convert(REQUEST_EXAMPLES[name], struct, strict=False)
        example = document["components"]["schemas"][name]["examples"][0]
        _validator(document, {"$ref": f"#/components/schemas/{name}"}).validate(example)
    parse_id_number(EXAMPLE_ID_NUMBER)  # raises if the check digit is wrong


async def test_response_examples_match_their_schemas(document):
    checked = 0
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json") if status.startswith("2") else None
            if not media or media["schema"] == {"type": "null"}:  # no body (e.g. 202 for a phone code)
                continue
            assert media.get("examples"), (method, path, status)
            validator = _validator(document, media["schema"])
            for example in media["examples"].values():
                validator.validate(example["value"])
                checked += 1
    assert checked >= 45
    assert set(RESPONSE_EXAMPLES) <= set(document["components"]["schemas"])


async def test_request_examples_are_accepted_by_the_api(client, actors):
    """The examples, in the order an integration would use them, against the real service."""
    ex = REQUEST_EXAMPLES
    admin = await actors.admin()

    async def ok(response, status=(200, 201, 204)):
        assert response.status_code in status, response.text
        return response.json() if response.content else None

    number = ex["AccountCreate"]["phone"]
    await ok(await client.post("/api/v1/phone-codes", json=ex["PhoneCodeRequest"]), (202,))
    await client.post("/api/v1/phone-codes", json=ex["PhoneCodeRequest"])  # the resend limit may refuse it
    account = await ok(
        await client.post(
            "/api/v1/accounts", json=ex["AccountCreate"] | {"phone_code": await actors.phone_code(number)}
        )
    )
    token = await ok(await client.post("/api/v1/auth/token", json=ex["TokenRequest"]))
    her = {"Authorization": f"Bearer {token['access_token']}"}
    agency = await ok(await client.post("/api/v1/agencies", headers=admin.headers, json=ex["AgencyCreate"]))
    key = await ok(await client.post(f"/api/v1/agencies/{agency['id']}/api-keys", headers=admin.headers, json={}))
    await ok(
        await client.post(f"/api/v1/agencies/{agency['id']}/api-keys", headers=admin.headers, json=ex["ApiKeyCreate"])
    )
    company = {"X-API-Key": key["key"]}
    worker = await ok(await client.post("/api/v1/workers", headers=company, json=ex["WorkerCreate"]))
    await ok(await client.post("/api/v1/workers/lookup", headers=company, json=ex["WorkerLookup"]))
    claimed = await ok(
        await client.post(
            "/api/v1/workers/claim",
            headers=her,
            json=ex["WorkerClaim"] | {"phone_code": await actors.phone_code(number, "claim")},
        )
    )
    assert claimed["id"] == worker["id"] and account["role"] == "worker"
    wid = worker["id"]
    await ok(await client.post(f"/api/v1/workers/{wid}/agency-binding/confirm", headers=her))
    await ok(await client.post(f"/api/v1/workers/{wid}/consent", headers=her, json=ex["ConsentGrant"]))
    current = await client.get(f"/api/v1/workers/{wid}", headers=her)
    await ok(
        await client.patch(
            f"/api/v1/workers/{wid}", headers=her | {"If-Match": current.headers["etag"]}, json=ex["WorkerUpdate"]
        )
    )

    training = await actors.agency("training")
    await ok(await client.post(f"/api/v1/workers/{wid}/trainings", headers=training.headers, json=ex["TrainingCreate"]))
    evaluation = await actors.agency("evaluation")
    await ok(
        await client.post(
            f"/api/v1/workers/{wid}/certificates", headers=evaluation.headers, json=ex["CertificateCreate"]
        )
    )
    check = await ok(await client.post(f"/api/v1/workers/{wid}/checks", headers=company, json=ex["CheckCreate"]))
    await ok(
        await client.post(
            f"/api/v1/workers/{wid}/checks/{check['id']}/decision", headers=admin.headers, json=ex["Decision"]
        )
    )
    await ok(await client.post("/api/v1/webhooks", headers=company, json=ex["WebhookCreate"]))

    employer = await actors.employer()
    request = await ok(await client.post("/api/v1/job-requests", headers=employer.headers, json=ex["JobRequestCreate"]))
    await ok(
        await client.patch(
            f"/api/v1/job-requests/{request['id']}", headers=employer.headers, json=ex["JobRequestUpdate"]
        )
    )
    # Reviews need a placement that has begun: the same request, starting today.
    today = await ok(
        await client.post(
            "/api/v1/job-requests",
            headers=employer.headers,
            json=ex["JobRequestCreate"] | {"start_date": today_local().isoformat(), "end_date": None},
        )
    )
    offer = await ok(
        await client.post(
            f"/api/v1/job-requests/{today['id']}/offers",
            headers=employer.headers,
            json=ex["OfferCreate"] | {"worker_id": wid},
        )
    )
    placement = await ok(await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=her))
    pid = placement["id"]
    complaint = await ok(
        await client.post(f"/api/v1/placements/{pid}/complaints", headers=employer.headers, json=ex["ComplaintCreate"])
    )
    await ok(
        await client.post(
            f"/api/v1/placements/{pid}/terminate", headers=employer.headers, json=ex["PlacementTerminate"]
        )
    )
    staffing = await ok(await client.get(f"/api/v1/job-requests/{today['id']}/staffing", headers=employer.headers))
    assert staffing["vacancies"] == 1 and staffing["can_reopen"] is True
    await ok(
        await client.post(
            f"/api/v1/job-requests/{today['id']}/reopen", headers=employer.headers, json=ex["RequestReopen"]
        )
    )
    review = await ok(
        await client.post(f"/api/v1/placements/{pid}/reviews", headers=employer.headers, json=ex["ReviewCreate"])
    )
    await ok(await client.patch(f"/api/v1/reviews/{review['id']}", headers=employer.headers, json=ex["ReviewUpdate"]))
    cid = complaint["id"]
    await ok(
        await client.post(f"/api/v1/complaints/{cid}/decision", headers=admin.headers, json=ex["ComplaintDecision"])
    )
    await ok(await client.post(f"/api/v1/complaints/{cid}/appeal", headers=her, json=ex["AppealCreate"]))
    await ok(
        await client.post(f"/api/v1/complaints/{cid}/appeal-decision", headers=admin.headers, json=ex["AppealDecision"])
    )
    await ok(
        await client.post(
            "/api/v1/accounts/password-reset",
            json=ex["PasswordReset"] | {"phone_code": await actors.phone_code(number, "reset_password")},
        )
    )
    # PlacementEnd ("complete") needs a placement that has started, and SuspensionCreate and
    # SuspensionLift a serious complaint upheld against an employer (tests/employment has
    # them); their examples are checked by the Struct decoder above. Every other request
    # example went through the service.


# Webhooks ------------------------------------------------------------------------------------


def _emitted_event_types() -> set[str]:
    """Event types named in `emit(...)` calls in the code (f-strings expanded by their uses)."""
    found = set()
    for source in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("emit", "_credential_event"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                elif isinstance(first, ast.JoinedStr):
                    prefix = "".join(v.value for v in first.values if isinstance(v, ast.Constant))
                    found.update(t for t in EVENT_TYPES if t.startswith(prefix))
    return found


async def test_webhooks_section_lists_every_event_the_service_emits(document):
    hooks = document["webhooks"]
    emitted = _emitted_event_types()
    assert emitted and emitted <= set(EVENT_TYPES)
    assert set(hooks) == set(EVENT_TYPES)
    for item in hooks.values():
        operation = item["post"]
        assert "X-Nanyue-Signature" in operation["description"]
        assert {p["name"] for p in operation["parameters"]} >= {"X-Nanyue-Signature", "X-Nanyue-Timestamp"}
        media = operation["requestBody"]["content"]["application/json"]
        jsonschema_rs.validator_for(media["schema"]).validate(media["example"])


async def test_webhook_payloads_match_what_is_delivered(client, actors, receiver, app, document):
    """A real delivery's body validates against its event's documented schema."""
    from tests.factories import offer as make_offer

    agency = await actors.agency()
    created = await client.post(
        "/api/v1/webhooks",
        headers=agency.headers,
        json={"url": "http://127.0.0.1:9/hook", "event_types": list(EVENT_TYPES)},
    )
    assert created.status_code == 201, created.text
    person, worker = await actors.registered_worker()
    await client.post(f"/api/v1/workers/{worker['id']}/consent", headers=person.headers, json={})
    request = await client.post(
        "/api/v1/job-requests",
        headers=agency.headers,
        json=REQUEST_EXAMPLES["JobRequestCreate"] | {"required_certificate": None, "languages": []},
    )
    assert request.status_code == 201, request.text
    await make_offer(client, agency, request.json()["id"], worker["id"])
    assert in_app(client, app.state.dispatcher.deliver_due) >= 1
    bodies = [r.json for r in receiver.received]
    assert {b["type"] for b in bodies} == {"offer.made"}
    for body in bodies:
        schema = document["webhooks"][body["type"]]["post"]["requestBody"]["content"]["application/json"]["schema"]
        jsonschema_rs.validator_for(schema).validate(body)


# Documentation pages -------------------------------------------------------------------------


async def test_documentation_pages_need_no_internet(client):
    for page in ("/schema", "/schema/swagger"):
        response = await client.get(page)
        assert response.status_code == 200
        html = response.text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert any(u.endswith(".js") for u in urls), (page, urls)
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), (page, url)
            asset = await client.get(url)
            assert asset.status_code == 200 and asset.content, (page, url)
        assert not re.search(r"https?://(?!nanyue-jiazheng\.example)", html.split("spec:")[0]), page


async def test_protected_attributes_are_bounded_like_their_columns(client, actors, document):
    """Found by fuzzing: a 17-32 character `religion` passed the schema and the database
    refused it. The schema now says 16, and the answer names the field."""
    assert document["components"]["schemas"]["WorkerCreate"]["properties"]["religion"]["anyOf"][0]["maxLength"] == 16
    person = await actors.worker_account()
    from tests.factories import worker_body

    too_long = await client.post(
        "/api/v1/workers", headers=person.headers, json=worker_body(phone=person.phone, religion="0" * 17)
    )
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["field"] == "religion", too_long.text
    fits = await client.post(
        "/api/v1/workers", headers=person.headers, json=worker_body(phone=person.phone, religion="0" * 16)
    )
    assert fits.status_code == 201, fits.text
