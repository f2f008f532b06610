"""Liveness and readiness."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from service.schemas import Output


class Health(Output):
    status: str


class MatcherReadiness(Output):
    loaded: bool
    workers: int
    # Worker rows the candidate index could not read and left out (logged with their ids).
    skipped_rows: int
    degraded: bool


class Readiness(Output):
    # ok | degraded (serving, but the matcher left rows out) | unavailable (503)
    status: str
    database: str
    store: str
    store_backend: str
    matcher: MatcherReadiness


@get(
    "/health",
    opt={"public": True},
    operation_id="health",
    summary="存活检查 (liveness)",
    tags=["system"],
    exclude_from_auth=True,
)
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    opt={"public": True},
    operation_id="ready",
    summary="就绪检查：数据库与存储 (readiness)",
    tags=["system"],
    exclude_from_auth=True,
)
async def ready(request: Request) -> Response[Readiness]:
    database = store = "ok"
    try:
        await request.app.state.engine.run_ddl("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        database = f"error: {type(exc).__name__}"
    try:
        probe = request.app.stores.get("readiness")
        await probe.set("probe", b"1", expires_in=10)
        if await probe.get("probe") != b"1":
            store = "error: read back failed"
    except Exception as exc:  # noqa: BLE001
        store = f"error: {type(exc).__name__}"
    ok = database == "ok" and store == "ok"
    index = request.app.state.matcher
    matcher = MatcherReadiness(
        loaded=index.loaded, workers=index.n, skipped_rows=len(index.skipped), degraded=bool(index.skipped)
    )
    body = Readiness(
        status="unavailable" if not ok else "degraded" if matcher.degraded else "ok",
        database=database,
        store=store,
        matcher=matcher,
        store_backend="redis" if request.app.state.settings.redis_url else "memory",
    )
    return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)
