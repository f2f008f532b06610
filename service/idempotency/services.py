"""`Idempotency-Key` handling for POSTs that change state.

The first request with a key runs and its answer is stored in the same transaction as its
effects; a retry with the same key and body gets that answer again without a second
effect; the same key with another body is 422; a retry while the first is still running
is 409. Keys are scoped to the calling credential (API key or account) and kept at least 24 hours. Stored answers are
encrypted with the data key (they may hold a phone number or a webhook secret).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from litestar import Request, Response
from piccolo.querystring import QueryString

from service.accounts.guards import principal_of
from service.errors import AppError, Conflict, InvalidField
from service.idempotency.tables import IdempotencyRecord

HEADER = "Idempotency-Key"
PURPOSE = b"idempotency.answer.v1"
LEASE = timedelta(seconds=60)
KEEP = timedelta(hours=48)


class KeyReused(AppError):
    status_code = 422
    slug = "idempotency-key-reused"
    title = "幂等键已用于另一个请求 (the Idempotency-Key was used for a different request)"


def _caller(request: Request) -> str:
    """The credential that sent the request (an API key, or a person's account): another key
    of the same agency is another caller and never sees this key's stored answers."""
    return principal_of(request).credential


async def idempotent(request: Request, act: Callable[[], Awaitable[Any]], *, status_code: int = 200) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return Response(await act(), status_code=status_code)
    if not (1 <= len(key) <= 100) or not key.isprintable():
        raise InvalidField(HEADER, "1 到 100 个可打印字符 (1 to 100 printable characters)")
    caller = _caller(request)
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + await request.body()
    ).hexdigest()
    now = datetime.now(timezone.utc)
    db = IdempotencyRecord._meta.db
    inserted = await db.run_querystring(
        QueryString(
            "INSERT INTO idempotency_record (caller, key, fingerprint, state, locked_until, created_at) "
            "VALUES ({}, {}, {}, 'running', {}, {}) ON CONFLICT (caller, key) DO NOTHING RETURNING id",
            caller,
            key,
            fingerprint,
            now + LEASE,
            now,
        )
    )
    cipher = request.app.state.cipher
    if inserted:
        record_id = inserted[0]["id"]
    else:
        record_id = await _existing(caller, key, fingerprint, now, cipher)
        if isinstance(record_id, Response):
            return record_id
    try:
        async with db.transaction():
            # Whoever holds this key's lock runs; a holder whose lease ran out is waited for.
            await db.run_querystring(
                QueryString("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", f"{caller}|{key}")
            )
            current = await IdempotencyRecord.select().where(IdempotencyRecord.id == record_id).first()
            if current is None:
                raise Conflict(
                    "请求正在处理，请稍后重试 (the first request with this key is still running; retry shortly)"
                )
            if current["state"] == "done":
                return _replay(current, cipher)
            result = await act()
            body = msgspec.json.encode(result)
            await IdempotencyRecord.update(
                {
                    IdempotencyRecord.state: "done",
                    IdempotencyRecord.status_code: status_code,
                    IdempotencyRecord.body: cipher.encrypt(body.decode(), PURPOSE),
                }
            ).where(IdempotencyRecord.id == record_id)
    except BaseException:
        # Nothing happened; let a retry run it again.
        await IdempotencyRecord.delete().where(
            (IdempotencyRecord.id == record_id) & (IdempotencyRecord.state == "running")
        )
        raise
    return Response(content=body, status_code=status_code, media_type="application/json")


def _replay(row: dict, cipher) -> Response:
    return Response(
        content=cipher.decrypt(row["body"], PURPOSE).encode(),
        status_code=row["status_code"],
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def _existing(caller: str, key: str, fingerprint: str, now: datetime, cipher) -> int | Response:
    row = (
        await IdempotencyRecord.select()
        .where((IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key))
        .first()
    )
    if row is None:  # deleted after a failure in between: the caller may simply retry
        raise Conflict("请求正在处理，请稍后重试 (the first request with this key is still running; retry shortly)")
    if row["fingerprint"] != fingerprint:
        raise KeyReused()
    if row["state"] == "done":
        return _replay(row, cipher)
    taken = (
        await IdempotencyRecord.update({IdempotencyRecord.locked_until: now + LEASE})
        .where(
            (IdempotencyRecord.id == row["id"])
            & (IdempotencyRecord.state == "running")
            & (IdempotencyRecord.locked_until < now)
        )
        .returning(IdempotencyRecord.id)
    )
    if not taken:
        raise Conflict("相同幂等键的请求正在处理 (a request with this Idempotency-Key is still running)")
    return row["id"]


async def forget_old_keys() -> None:
    await IdempotencyRecord.delete().where(IdempotencyRecord.created_at < datetime.now(timezone.utc) - KEEP)
