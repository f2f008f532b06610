"""Safe retries of POSTs with an `Idempotency-Key` header."""

from service.idempotency.services import idempotent

__all__ = ["idempotent"]
