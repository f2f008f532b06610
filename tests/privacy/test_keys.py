"""Keys rotate: versioned data keys with re-encryption, token keys with a grace window,
and production refuses development keys."""

import base64
import json

import msgspec
import pytest
from cryptography.exceptions import InvalidTag

from service.privacy.keys import rotate
from service.security import IdNumberCipher, issue_token
from service.settings import SettingsError, generate_data_key, load_settings
from tests.conftest import in_app, tuned
from tests.factories import id_number, worker_body
from tests.personal_data_scan import Scan


def test_versioned_ciphertexts_and_indexes_stay_readable():
    old, new = base64.b64decode(generate_data_key()), base64.b64decode(generate_data_key())
    before = IdNumberCipher(old)
    legacy = before.encrypt("441802198503071026")[4:]  # a ciphertext from before versions: nonce first
    after = IdNumberCipher({1: old, 2: new}, 2)
    assert after.decrypt(legacy) == "441802198503071026"
    fresh = after.encrypt("441802198503071026")
    assert after.version_of(fresh) == 2 and after.decrypt(fresh) == "441802198503071026"
    with pytest.raises(InvalidTag):
        before.decrypt(fresh)  # the old key alone cannot read the new ciphertext
    assert before.blind_index("441802198503071026") in after.blind_indexes("441802198503071026")
    assert after.blind_index("441802198503071026").startswith("v2:")


async def test_a_data_key_rotation_keeps_everyone_findable_and_rotate_keys_moves_them(client, app, actors, registry):
    agency = await actors.agency()
    body = worker_body()
    created = await client.post("/api/v1/workers", headers=agency.headers, json=body)
    assert created.status_code == 201
    worker_id = created.json()["id"]
    trainer = registry.trainer
    unregistered = id_number()
    roster = await client.post(
        "/api/v1/bureau/training-rosters",
        headers=trainer.headers,
        json={"course": "母婴护理员培训", "started_on": "2026-03-02", "id_numbers": [body["id_number"], unregistered]},
    )
    old_cipher = app.state.cipher
    settings = app.state.settings
    new_key = generate_data_key()
    rotated = IdNumberCipher({1: settings.data_key_bytes, 2: base64.b64decode(new_key)}, 2)
    app.state.cipher = rotated
    try:
        # Before re-encryption: found by the old index, readable, no second registration.
        found = await client.post(
            "/api/v1/workers/lookup", headers=agency.headers, json={"id_number": body["id_number"]}
        )
        assert found.status_code == 200 and found.json()["id"] == worker_id
        again = await client.post("/api/v1/workers", headers=agency.headers, json=body)
        assert again.status_code == 409
        done = in_app(client, rotate, rotated)
        assert done["id_numbers_reencrypted"] == 1 and done["unreadable"] == 0
        assert roster.status_code == 201, roster.text
        assert done["roster_entries_reindexed"] == 1 and done["roster_entries_on_earlier_versions"] == 1

        async def stored():
            from service.registry.tables import Worker

            return (
                await Worker.select(Worker.id_number_encrypted, Worker.id_number_index)
                .where(Worker.id == worker_id)
                .first()
            )

        row = in_app(client, stored)
        assert row["id_number_index"].startswith("v2:") and rotated.version_of(bytes(row["id_number_encrypted"])) == 2
        found = await client.post(
            "/api/v1/workers/lookup", headers=agency.headers, json={"id_number": body["id_number"]}
        )
        assert found.status_code == 200
        shown = await client.get(
            f"/api/v1/workers/{worker_id}/personal-data",
            headers=agency.headers,
            params={"fields": "id_number", "purpose": "核对身份"},
        )
        assert shown.json()["id_number"] == body["id_number"]
        # A second run has nothing left to do.
        assert in_app(client, rotate, rotated)["id_numbers_reencrypted"] == 0
        # The old key alone no longer reads her record.
        with pytest.raises(InvalidTag):
            old_cipher.decrypt(bytes(row["id_number_encrypted"]))
    finally:
        app.state.cipher = old_cipher


async def test_tokens_signed_with_the_previous_secret_stay_valid_through_a_rotation(client, app, actors):
    person = await actors.employer()
    old_secret = app.state.settings.secret_key
    with tuned(app, secret_key="a-new-secret-key-of-enough-length-0123456789", old_secret_keys=(old_secret,)):
        assert (await client.get("/api/v1/accounts/me", headers=person.headers)).status_code == 200
        fresh = await actors.login(person.phone, "正确的密码-2026年")
        assert (await client.get("/api/v1/accounts/me", headers=fresh)).status_code == 200
    with tuned(app, secret_key="a-new-secret-key-of-enough-length-0123456789", old_secret_keys=()):
        # Once the old key is dropped, its tokens are refused; new ones still work.
        assert (await client.get("/api/v1/accounts/me", headers=person.headers)).status_code == 401
        assert (await client.get("/api/v1/accounts/me", headers=fresh)).status_code == 200
    forged = issue_token(
        user_id=person.id, role="employer", secret="someone-else-entirely-0123456789abcdef", ttl_seconds=60
    )
    assert (await client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401


def _production(tmp_path, **env):
    return {"APP_ENV": "production", "VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://127.0.0.1/x"} | env


def test_production_refuses_development_keys(tmp_path):
    good = {"SECRET_KEY": "k" * 20 + "production-secret-0123456789", "DATA_KEY": generate_data_key()}
    assert load_settings(_production(tmp_path, **good)).environment == "production"
    dev = {"secret_key": "dev-secret-" + "x" * 40, "data_key": generate_data_key()}
    (tmp_path / "dev-keys.json").write_text(json.dumps(dev))
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(_production(tmp_path, SECRET_KEY=dev["secret_key"], DATA_KEY=good["DATA_KEY"]))
    with pytest.raises(SettingsError, match="DATA_KEY"):
        load_settings(_production(tmp_path, SECRET_KEY=good["SECRET_KEY"], DATA_KEY=dev["data_key"]))
    with pytest.raises(SettingsError, match="DATA_KEY"):
        load_settings(
            _production(tmp_path, SECRET_KEY=good["SECRET_KEY"], DATA_KEY=base64.b64encode(bytes(32)).decode())
        )
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(_production(tmp_path, SECRET_KEY="short", DATA_KEY=good["DATA_KEY"]))
    # Development takes its generated keys as before.
    assert load_settings({"VAR_DIR": str(tmp_path), "SECRET_KEY": dev["secret_key"]}).data_key == dev["data_key"]


def test_old_keys_are_read_from_the_environment(tmp_path):
    old = generate_data_key()
    env = {
        "VAR_DIR": str(tmp_path),
        "DATA_KEY": generate_data_key(),
        "DATA_KEY_VERSION": "2",
        "OLD_DATA_KEYS": f"1:{old}",
    }
    settings = load_settings(env | {"OLD_SECRET_KEYS": "first-old,second-old"})
    assert settings.old_secret_keys == ("first-old", "second-old")
    assert sorted(settings.data_keys) == [1, 2] and settings.data_keys[1] == base64.b64decode(old)
    with pytest.raises(SettingsError, match="OLD_DATA_KEYS"):
        load_settings(env | {"OLD_DATA_KEYS": "1:not-a-key"})
    with pytest.raises(SettingsError, match="OLD_DATA_KEYS"):
        load_settings(env | {"OLD_DATA_KEYS": f"2:{old}"})


async def test_the_scan_catches_raw_numbers_and_lets_audited_reads_through():
    scan = Scan()

    def app_saying(text: str, audited: bool):
        async def asgi(scope, receive, send):
            if audited:
                from service.privacy.audit import reads_in_request

                reads_in_request.get().append((1, "phone"))
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": text.encode()})

        return scan.wrap(asgi)

    async def call(asgi):
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            pass

        await asgi({"type": "http", "method": "GET", "path": "/api/v1/x"}, receive, send)

    await call(app_saying('{"phone": "138****8000", "id": "4418**********1026"}', audited=False))
    assert scan.findings == []
    await call(app_saying('{"phone": "13800138000"}', audited=True))
    assert scan.findings == []
    await call(app_saying('{"certificate_no": "S000012341234999", "request_id": "8f13612340732ca2"}', audited=False))
    assert scan.findings == []  # 15 digits without a birth date in them: not an ID number
    await call(app_saying('{"note": "身份证441802198503071026"}', audited=False))
    assert len(scan.findings) == 1 and "441802198503071026" not in scan.findings[0]
    assert msgspec.json.encode(scan.findings)  # reportable as it is
