"""Liveness and readiness."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from service.schemas import Output
from service.stores import probe_redis


class Health(Output):
    status: str


class MatcherReadiness(Output):
    loaded: bool
    workers: int
    # Worker rows the candidate index could not read and left out (logged with their ids).
    skipped_rows: int
    degraded: bool


class DispatcherReadiness(Output):
    # The webhook dispatcher runs in this process.
    running: bool
    # It hears each committed event at once (LISTEN); false: it finds them by polling.
    listening: bool
    # Times it connected its listener again after losing it.
    reconnects: int
    last_error: str


class Readiness(Output):
    # ok | degraded (serving: Redis away and limits counted per process, the matcher left
    # rows out, or webhooks found by polling only) | unavailable (503: no database)
    status: str
    database: str
    # ok | degraded: <why> (Redis away; stores answer from process memory)
    store: str
    store_backend: str
    matcher: MatcherReadiness
    dispatcher: DispatcherReadiness


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
    database = "ok"
    try:
        await request.app.state.engine.run_ddl("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        database = f"error: {type(exc).__name__}"
    store = "ok"
    try:
        redis = await probe_redis(request.app.stores.get("readiness"))
        if redis != "ok":
            store = f"degraded: redis {redis}; limits counted per process, match cache bypassed"
    except Exception as exc:  # noqa: BLE001
        store = f"error: {type(exc).__name__}"
    ok = database == "ok" and not store.startswith("error")
    index = request.app.state.matcher
    matcher = MatcherReadiness(
        loaded=index.loaded, workers=index.n, skipped_rows=len(index.skipped), degraded=bool(index.skipped)
    )
    state = request.app.state.dispatcher.state
    dispatcher = DispatcherReadiness(
        running=state.running, listening=state.listening, reconnects=state.reconnects, last_error=state.last_error
    )
    degraded = matcher.degraded or store != "ok" or (dispatcher.running and not dispatcher.listening)
    body = Readiness(
        status="unavailable" if not ok else "degraded" if degraded else "ok",
        database=database,
        store=store,
        matcher=matcher,
        dispatcher=dispatcher,
        store_backend="redis" if request.app.state.settings.redis_url else "memory",
    )
    return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)
