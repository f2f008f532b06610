"""A JSON body nested deeper than the parser recurses is a 400 problem, not a 500."""

import logging

import pytest

DEEP_ARRAYS = "[" * 5000 + "]" * 5000
DEEP_OBJECTS = '{"a":' * 2500 + "1" + "}" * 2500
DEEP_MIXED = '{"real_name":' + '[{"a":' * 1500 + "1" + "}]" * 1500 + "}"


@pytest.mark.parametrize("body", [DEEP_ARRAYS, DEEP_OBJECTS, DEEP_MIXED], ids=["arrays", "objects", "mixed"])
async def test_deep_json_is_a_400_problem_on_every_kind_of_route(client, actors, caplog, body):
    agency = await actors.agency("housekeeping")
    employer = await actors.employer()
    person, record = await actors.registered_worker()
    etag = (await client.get(f"/api/v1/workers/{record['id']}", headers=person.headers)).headers["etag"]
    routes = [
        ("POST", "/api/v1/accounts", {}),  # public
        ("POST", "/api/v1/auth/token", {}),  # public
        ("POST", "/api/v1/workers", agency.headers),
        ("POST", "/api/v1/job-requests", employer.headers),
        ("PATCH", f"/api/v1/workers/{record['id']}", person.headers | {"If-Match": etag}),
        ("POST", "/api/v1/webhooks", agency.headers),
    ]
    caplog.clear()
    for method, path, headers in routes:
        response = await client.request(
            method, path, headers=headers | {"Content-Type": "application/json"}, content=body.encode()
        )
        assert response.status_code == 400, (path, response.status_code, response.text[:200])
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/too-deep") and problem["instance"] == path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert (await client.get(f"/api/v1/workers/{record['id']}", headers=person.headers)).headers["etag"] == etag


async def test_other_recursion_errors_stay_500s(client):
    from service.errors import to_problem

    def recurse(n):
        return recurse(n + 1)

    try:
        recurse(0)
    except RecursionError as exc:
        assert to_problem(exc).status_code == 500
