"""`Idempotency-Key` handling for POSTs that change state.

The first request with a key runs and its answer is stored in the same transaction as its
effects, under a lock of that same transaction; a retry with the same key and body gets
that answer again without a second effect; the same key with another body is 422; a retry
while the first is still running is 409 with `Retry-After`. A process killed mid-request
leaves no trace (its transaction and lock die with its connection): the retry runs. Keys are scoped to the calling credential (API key or account) and kept at least 24 hours. Stored answers are
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
KEEP = timedelta(hours=48)


class KeyReused(AppError):
    status_code = 422
    slug = "idempotency-key-reused"
    title = "幂等键已用于另一个请求 (the Idempotency-Key was used for a different request)"


def _caller(request: Request) -> str:
    """The credential that sent the request (an API key, or a person's account): another key
    of the same agency is another caller and never sees this key's stored answers."""
    return principal_of(request).credential


class StillRunning(Conflict):
    """The first request with this key holds it right now: retry in a moment."""

    def __init__(self) -> None:
        super().__init__(
            "相同幂等键的请求正在处理，请稍后重试 (a request with this Idempotency-Key is still running; retry shortly)",
            headers={"Retry-After": "1"},
        )


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
    cipher = request.app.state.cipher
    db = IdempotencyRecord._meta.db
    async with db.transaction():
        # The key is claimed by a lock of this transaction, the one that makes the effect
        # and stores the answer: it is released at commit or rollback, and by PostgreSQL when
        # the holder's connection dies with its process, so a crash leaves no key held.
        claimed = await db.run_querystring(
            QueryString("SELECT pg_try_advisory_xact_lock(hashtextextended({}, 0)) AS claimed", f"{caller}|{key}")
        )
        if not claimed[0]["claimed"]:
            raise StillRunning()
        current = (
            await IdempotencyRecord.select()
            .where((IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key))
            .first()
        )
        if current is not None:
            if current["fingerprint"] != fingerprint:
                raise KeyReused()
            if current["state"] == "done":
                return _replay(current, cipher)
            # "running": left by a holder that died; nobody holds the key now.
            await IdempotencyRecord.delete().where(IdempotencyRecord.id == current["id"])
        result = await act()
        body = msgspec.json.encode(result)
        now = datetime.now(timezone.utc)
        await IdempotencyRecord.insert(
            IdempotencyRecord(
                caller=caller,
                key=key,
                fingerprint=fingerprint,
                state="done",
                locked_until=now,
                created_at=now,
                status_code=status_code,
                body=cipher.encrypt(body.decode(), PURPOSE),
            )
        )
    return Response(content=body, status_code=status_code, media_type="application/json")


def _replay(row: dict, cipher) -> Response:
    return Response(
        content=cipher.decrypt(row["body"], PURPOSE).encode(),
        status_code=row["status_code"],
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def forget_old_keys() -> None:
    await IdempotencyRecord.delete().where(IdempotencyRecord.created_at < datetime.now(timezone.utc) - KEEP)
