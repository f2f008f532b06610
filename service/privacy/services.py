"""A worker's rights over her data (PIPL Arts. 45, 47) and the audited reads of it.

- `reveal`: the full ID number or phone, to the worker herself, her agency or the bureau,
  for a stated purpose, each read logged (audit.record_reads).
- `export`: everything the registry holds about her, as JSON, with who read it (Art. 45).
- `request_erasure`: withdraws her consent at once (she disappears from matching and
  from employers), and `erase_due` erases her personal fields once the retention period
  in the settings has passed (Art. 47). Her training, certificate and placement rows stay,
  linked to a record without name, ID number, phone, address or birthday, so the bureau's
  figures still count her.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidTag

from service.accounts.callers import forget_callers
from service.accounts.guards import Principal
from service.accounts.tables import User
from service.database import jsonb
from service.errors import Conflict, InvalidField, NotFound
from service.privacy.audit import SensitiveField, reads_about, record_reads
from service.registry import services as registry
from service.registry.tables import ConsentEvent, Worker
from service.security import IdNumberCipher

NO_SUCH_WORKER = "家政服务员不存在 (no such worker)"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _decrypt_id(cipher: IdNumberCipher, blob: bytes) -> str | None:
    if not blob:
        return None  # erased
    try:
        return cipher.decrypt(blob)
    except InvalidTag:
        return None


async def reveal(
    principal: Principal,
    worker_id: int,
    fields: list[SensitiveField],
    *,
    purpose: str,
    route: str,
    cipher: IdNumberCipher,
) -> dict:
    """Her full ID number and/or phone, for whoever manages her record."""
    worker, _rel = await registry.get_managed_worker(principal, worker_id)
    # Checked after access, so a stranger's worker answers 404 whatever the query says.
    if len(purpose.strip()) < 2:
        raise InvalidField("purpose", "请说明读取目的，记入审计日志 (state why you read it; it is logged)")
    if not fields:
        raise InvalidField("fields", "请指明要读取的字段：id_number 或 phone (name id_number and/or phone)")
    if worker["erased_at"] is not None:
        raise Conflict("该档案的个人信息已删除 (this worker's personal data has been erased)")
    wanted: list[SensitiveField] = [f for f in fields if f in (SensitiveField.ID_NUMBER, SensitiveField.PHONE)]
    await record_reads(principal, worker_id, wanted, purpose=purpose, route=route)
    return {
        "worker_id": worker_id,
        "id_number": _decrypt_id(cipher, worker["id_number_encrypted"]) if SensitiveField.ID_NUMBER in wanted else None,
        "phone": worker["phone"] if SensitiveField.PHONE in wanted else None,
        "purpose": purpose,
    }


# Her records in other tables: section name -> SQL taking her worker id.
_SECTIONS = {
    "consent_events": "SELECT * FROM consent_event t WHERE t.worker = {}",
    "trainings": "SELECT * FROM training t WHERE t.worker = {}",
    "training_sessions": "SELECT s.* FROM training_session s JOIN training t ON t.id = s.training WHERE t.worker = {}",
    "certificates": "SELECT * FROM certificate t WHERE t.worker = {}",
    "checks": "SELECT * FROM worker_check t WHERE t.worker = {}",
    "offers": "SELECT * FROM offer t WHERE t.worker = {}",
    "placements": "SELECT * FROM placement t WHERE t.worker = {}",
    "reviews": "SELECT r.* FROM review r JOIN placement p ON p.id = r.placement WHERE p.worker = {}",
    "complaints": "SELECT * FROM complaint t WHERE t.worker = {}",
    "integrity_rating": "SELECT * FROM integrity_rating t WHERE t.worker = {}",
    "integrity_history": "SELECT * FROM integrity_history t WHERE t.worker = {}",
    "subsidy_claims": "SELECT * FROM subsidy_claim t WHERE t.worker = {}",
    "lookups_by_id_number": "SELECT t.id, t.at, t.user AS user_id, t.agency AS agency_id, a.name AS agency_name "
    "FROM worker_lookup t LEFT JOIN agency a ON a.id = t.agency WHERE t.worker = {}",
}
# Never exported: ciphertexts, blind indexes and bookkeeping.
_HIDDEN_COLUMNS = ("id_number_encrypted", "id_number_index", "change_txid")


async def export(principal: Principal, worker_id: int, *, route: str, cipher: IdNumberCipher) -> dict:
    """Everything about her, for her only (Art. 45)."""
    worker = await registry.own_worker(principal, worker_id)
    sections: dict[str, list[dict[str, Any]]] = {}
    for name, sql in _SECTIONS.items():
        rows = await Worker.raw(
            f"SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.id), '[]'::jsonb) AS rows FROM ({sql}) x", worker_id
        )
        sections[name] = jsonb(rows[0]["rows"])
    record = {k: v for k, v in worker.items() if k not in _HIDDEN_COLUMNS}
    record["id_number"] = _decrypt_id(cipher, worker["id_number_encrypted"])
    # Her own download is a read of her data too: it appears in her next export.
    await record_reads(
        principal,
        worker_id,
        [SensitiveField.ID_NUMBER, SensitiveField.PHONE, SensitiveField.BACKGROUND_CHECK, SensitiveField.HEALTH_CHECK],
        purpose="本人下载个人信息副本 (her own copy, PIPL Art. 45)",
        route=route,
    )
    return {
        "generated_at": _now(),
        "worker": record,
        "records": sections,
        "reads": await reads_about(worker_id),
    }


async def request_erasure(principal: Principal, worker_id: int, *, retention_days: int) -> dict:
    """She asks for erasure: consent is withdrawn at once; the erasure follows the retention period."""
    worker = await registry.own_worker(principal, worker_id)
    now = _now()
    async with Worker._meta.db.transaction():
        if worker["consented_at"] is not None:
            await ConsentEvent(worker=worker_id, action="withdrawn", terms_version="erasure", at=now).save()
        await Worker.update(
            {
                Worker.consented_at: None,
                Worker.erasure_requested_at: now,
                Worker.version: Worker.version + 1,
                Worker.updated_at: now,
            }
        ).where((Worker.id == worker_id) & Worker.erasure_requested_at.is_null())
    return await erasure_status(principal, worker_id, retention_days=retention_days)


async def erasure_status(principal: Principal, worker_id: int, *, retention_days: int) -> dict:
    worker = await registry.own_worker(principal, worker_id)
    requested = worker["erasure_requested_at"]
    return {
        "worker_id": worker_id,
        "requested_at": requested,
        "erase_after": requested + timedelta(days=retention_days) if requested else None,
        "erased_at": worker["erased_at"],
    }


async def erase_due(*, retention_days: int, now: datetime | None = None) -> list[int]:
    """Erase the personal fields of every worker whose request is older than the retention
    period; one transaction. Returns the erased workers' ids."""
    cutoff = (now or _now()) - timedelta(days=retention_days)
    async with Worker._meta.db.transaction():
        erased = await Worker.raw(
            """
            WITH due AS (
                SELECT id, "user" FROM worker
                WHERE erasure_requested_at <= {} AND erased_at IS NULL FOR UPDATE
            )
            UPDATE worker w SET
                real_name = '', phone = '', id_number_encrypted = '\\x'::bytea,
                id_number_index = 'erased:' || w.id, id_number_masked = '',
                birth_date = make_date(extract(year FROM birth_date)::int, 1, 1),
                lat = NULL, lon = NULL, ethnicity = NULL, native_place = NULL,
                marital_status = NULL, religion = NULL, "user" = NULL,
                consented_at = NULL, status = 'paused', erased_at = now(),
                version = version + 1, updated_at = now()
            FROM due WHERE w.id = due.id
            RETURNING w.id, due."user" AS user_id
            """,
            cutoff,
        )
        if erased:
            # The matcher's checkpoints hold her surname and coordinates.
            from service.matching.checkpoint import forget_checkpoints

            await forget_checkpoints()
        users = [r["user_id"] for r in erased if r["user_id"] is not None]
        if users:
            # Her account goes too: no phone, no name, no sign-in.
            await User.raw(
                "UPDATE app_user SET phone = 'erased-' || id, display_name = '', password_hash = '!', "
                "is_active = false WHERE id = ANY({})",
                users,
            )
    if erased:
        forget_callers()  # after the commit: her account is read afresh from now on
    return [r["id"] for r in erased]


def not_found() -> NotFound:
    return NotFound(NO_SUCH_WORKER)
