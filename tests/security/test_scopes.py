"""API-key scopes: every route an agency can reach names the scope it needs, and a key
without that scope is refused there (403), whatever else it holds."""

from __future__ import annotations

import pytest

from service.accounts.guards import AGENCY_ROLES, AGENCY_SCOPES, UNAUTHENTICATED_PATHS, Role, requires
from tests.security.world import MISSING, api_routes, bodies, build_world


def agency_routes(app):
    return [r for r in api_routes(app) if r.roles is not None and r.roles & AGENCY_ROLES]


def test_every_route_an_agency_can_reach_declares_its_scope(app):
    routes = api_routes(app)
    assert len(routes) > 50
    unguarded = [
        f"{r.method} {r.path}"
        for r in routes
        if r.roles is None and not r.public and not r.path.startswith(UNAUTHENTICATED_PATHS)
    ]
    assert unguarded == [], "routes any caller (an agency key with no scopes, too) reaches"
    unscoped = [f"{r.method} {r.path}" for r in agency_routes(app) if r.scope is None]
    assert unscoped == []
    for route in agency_routes(app):
        assert any(route.scope in AGENCY_SCOPES[role] for role in route.roles & AGENCY_ROLES), route


def test_the_guard_factory_refuses_an_agency_route_without_a_scope():
    with pytest.raises(ValueError, match="scope"):
        requires(Role.HOUSEKEEPING, Role.ADMIN)
    with pytest.raises(ValueError, match="scope"):
        requires(Role.TRAINING, scope="jobs:write")  # no training institution can hold it
    requires(Role.EMPLOYER, Role.WORKER)  # people's routes need no scope


async def issue(client, admin, agency_id, scopes):
    issued = await client.post(
        f"/api/v1/agencies/{agency_id}/api-keys", headers=admin.headers, json={"scopes": sorted(scopes)}
    )
    assert issued.status_code == 201, issued.text
    return {"X-API-Key": issued.json()["key"]}


async def test_every_agency_route_refuses_a_key_without_its_scope(app, client, actors):
    world = await build_world(client, actors)
    admin = world.owners["admin"]
    agencies = {role: world.strangers[role.value] for role in AGENCY_ROLES}
    body_of = bodies(world)
    checked = 0
    for route in agency_routes(app):
        for role in sorted(route.roles & AGENCY_ROLES):
            if route.scope not in AGENCY_SCOPES[role]:
                continue
            agency = agencies[role]
            lacking = await issue(client, admin, agency.id, AGENCY_SCOPES[role] - {route.scope})
            holding = await issue(client, admin, agency.id, {route.scope})
            ids = {name: (agency.id if name == "agency_id" else MISSING) for name in route.params}
            url = route.url(ids)
            kwargs = {"json": body_of[route.operation_id]} if route.operation_id in body_of else {}
            refused = await client.request(route.method, url, headers=lacking, **kwargs)
            assert refused.status_code == 403, (route.method, url, role, refused.text)
            assert route.scope in refused.json()["detail"]
            allowed = await client.request(route.method, url, headers=holding, **kwargs)
            assert allowed.status_code != 403, (route.method, url, role, allowed.text)
            assert allowed.status_code < 500, (route.method, url, role, allowed.text)
            checked += 1
    assert checked >= 40


async def test_a_key_with_no_scopes_reads_and_writes_nothing(client, actors):
    """The attack as reported: a scope-less key read a worker's record, consent history,
    checks and rating, posted a job request and subscribed to webhooks."""
    world = await build_world(client, actors)
    admin, home = world.owners["admin"], world.owners["housekeeping"]
    bare = await issue(client, admin, home.id, set())
    wid = world.ids["worker_id"]
    for method, url, body in [
        ("GET", f"/api/v1/workers/{wid}", None),
        ("GET", f"/api/v1/workers/{wid}/consent/history", None),
        ("GET", f"/api/v1/workers/{wid}/checks", None),
        ("GET", f"/api/v1/workers/{wid}/trainings", None),
        ("GET", f"/api/v1/workers/{wid}/integrity", None),
        ("POST", "/api/v1/job-requests", bodies(world)["createJobRequest"]),
        ("POST", "/api/v1/webhooks", bodies(world)["createWebhook"]),
        ("GET", "/api/v1/webhooks", None),
    ]:
        response = await client.request(method, url, headers=bare, json=body)
        assert response.status_code == 403, (method, url, response.text)
    # The agency's full key still does all of it.
    assert (await client.get(f"/api/v1/workers/{wid}", headers=home.headers)).status_code == 200
