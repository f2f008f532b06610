"""Re-encryption after a data-key rotation (`nanyue rotate-keys`).

Rotating: move DATA_KEY to OLD_DATA_KEYS as `<version>:<key>`, set the new DATA_KEY and
DATA_KEY_VERSION (one higher), restart, then run `nanyue rotate-keys`. Until it has run,
every ciphertext and blind index under an earlier version stays readable and findable.
When it reports nothing left on earlier versions, the old key may be removed.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag

from service.events.services import SECRET_PURPOSE
from service.idempotency.services import PURPOSE as IDEMPOTENCY_PURPOSE
from service.registry.tables import Worker
from service.security import IdNumberCipher

BATCH = 500


async def _reencrypt(cipher: IdNumberCipher, table: str, column: str, purpose: bytes) -> tuple[int, int]:
    """Rewrite every ciphertext of `table.column` not under the current version; (done, unreadable)."""
    done = unreadable = 0
    last = 0
    while True:
        rows = await Worker.raw(
            f"SELECT id, {column} AS blob FROM {table} WHERE id > {{}} AND {column} IS NOT NULL "
            f"AND length({column}) > 0 ORDER BY id LIMIT {BATCH}",
            last,
        )
        if not rows:
            return done, unreadable
        last = rows[-1]["id"]
        async with Worker._meta.db.transaction():
            for row in rows:
                blob = bytes(row["blob"])
                if cipher.version_of(blob) == cipher.current:
                    continue
                try:
                    plain = cipher.decrypt(blob, purpose)
                except InvalidTag:
                    unreadable += 1
                    continue
                await Worker.raw(
                    f"UPDATE {table} SET {column} = {{}} WHERE id = {{}}", cipher.encrypt(plain, purpose), row["id"]
                )
                done += 1


async def _reindex_workers(cipher: IdNumberCipher) -> tuple[int, int, int]:
    """ID numbers: re-encrypt, and rewrite the blind index under the current version, with
    the roster entries that name the same person. (workers, roster entries, unreadable)"""
    workers = entries = unreadable = 0
    last = 0
    while True:
        rows = await Worker.raw(
            "SELECT id, id_number_encrypted AS blob, id_number_index FROM worker "
            f"WHERE id > {{}} AND erased_at IS NULL ORDER BY id LIMIT {BATCH}",
            last,
        )
        if not rows:
            return workers, entries, unreadable
        last = rows[-1]["id"]
        async with Worker._meta.db.transaction():
            for row in rows:
                blob = bytes(row["blob"])
                current_index = cipher.index_version(row["id_number_index"]) == cipher.current
                if cipher.version_of(blob) == cipher.current and current_index:
                    continue
                try:
                    id_number = cipher.decrypt(blob)
                except InvalidTag:
                    unreadable += 1
                    continue
                index = cipher.blind_index(id_number)
                await Worker.raw(
                    "UPDATE worker SET id_number_encrypted = {}, id_number_index = {} WHERE id = {}",
                    cipher.encrypt(id_number),
                    index,
                    row["id"],
                )
                moved = await Worker.raw(
                    "UPDATE training_roster_entry SET id_number_index = {} WHERE id_number_index = ANY({}) "
                    "RETURNING id",
                    index,
                    cipher.blind_indexes(id_number)[1:],
                )
                workers += 1
                entries += len(moved)


async def rotate(cipher: IdNumberCipher) -> dict[str, int]:
    """Bring every ciphertext and blind index to the current key version; what was done
    and what is left on earlier versions."""
    workers, entries, unreadable_ids = await _reindex_workers(cipher)
    secrets, unreadable_secrets = await _reencrypt(cipher, "webhook_subscription", "secret_encrypted", SECRET_PURPOSE)
    answers, unreadable_answers = await _reencrypt(cipher, "idempotency_record", "body", IDEMPOTENCY_PURPOSE)
    prefix = "v{}:".format(cipher.current) if cipher.current != 1 else None
    if prefix:
        left = await Worker.raw(
            "SELECT count(*) AS n FROM training_roster_entry WHERE id_number_index NOT LIKE {}", prefix + "%"
        )
    else:
        left = await Worker.raw("SELECT count(*) AS n FROM training_roster_entry WHERE id_number_index LIKE 'v%'")
    return {
        "id_numbers_reencrypted": workers,
        "roster_entries_reindexed": entries,
        "webhook_secrets_reencrypted": secrets,
        "idempotency_answers_reencrypted": answers,
        "unreadable": unreadable_ids + unreadable_secrets + unreadable_answers,
        # Class-list entries of people never registered: only their index exists, so they
        # move to the current version when the person registers (registry.create_worker).
        "roster_entries_on_earlier_versions": left[0]["n"],
    }
