"""An idempotency key belongs to the credential that sent it, not to the whole agency."""

from __future__ import annotations

from service.accounts.guards import Principal, Role


async def test_another_key_of_the_same_agency_cannot_replay_a_stored_answer(client, actors):
    agency = await actors.agency("housekeeping")
    admin = await actors.admin()
    second = await client.post(
        f"/api/v1/agencies/{agency.id}/api-keys", headers=admin.headers, json={"label": "第二个密钥"}
    )
    assert second.status_code == 201
    other_key = {"X-API-Key": second.json()["key"]}
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["offer.made"]}
    headers = {"Idempotency-Key": "subscribe-1"}

    first = await client.post("/api/v1/webhooks", headers=agency.headers | headers, json=body)
    assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
    again = await client.post("/api/v1/webhooks", headers=agency.headers | headers, json=body)
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["secret"] == first.json()["secret"]

    # The same key value from another credential is a request of its own: no replayed secret.
    other = await client.post("/api/v1/webhooks", headers=other_key | headers, json=body)
    assert other.status_code == 201, other.text
    assert other.headers.get("idempotent-replayed") is None
    assert other.json()["id"] != first.json()["id"] and other.json()["secret"] != first.json()["secret"]


def test_the_caller_is_the_credential():
    assert Principal(role=Role.EMPLOYER, user_id=1).credential != Principal(role=Role.EMPLOYER, user_id=2).credential
    assert (
        Principal(role=Role.HOUSEKEEPING, agency_id=1, api_key_id=1).credential
        != Principal(role=Role.HOUSEKEEPING, agency_id=1, api_key_id=2).credential
    )
