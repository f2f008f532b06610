"""The application factory: `create_app(settings)` wires the domains together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import anyio
import httpx
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.plugins.prometheus import PrometheusConfig

from service.accounts.auth import AuthMiddleware
from service.accounts.callers import CallerCache
from service.accounts.controllers import AccountController, AgencyController
from service.accounts.guards import UNAUTHENTICATED_PATHS, require_authenticated
from service.accounts.throttle import AddressRateLimitMiddleware
from service.admission import bounded
from service.database import bind_tables, make_engine, resolve_database_url, start_pool
from service.employment import integrity
from service.employment.controllers import (
    ComplaintController,
    IntegrityController,
    OfferController,
    PlacementController,
    ReviewController,
    StaffingController,
    SuspensionController,
)
from service.employment.integrity import refresh_aged
from service.employment.services import busy_periods, employer_records
from service.errors import EXCEPTION_HANDLERS
from service.events.controllers import WebhookController
from service.events.dispatcher import WebhookDispatcher
from service.events.services import Resolver, system_resolver
from service.idempotency.services import forget_old_keys
from service.matching import worker_side
from service.matching.checkpoint import CheckpointStore, keep_checkpoints
from service.matching.controllers import JobRequestController, WorkerSideController
from service.matching.facts import DatabaseFacts
from service.matching.index import CandidateIndex
from service.matching.understanding import SkillVocabulary
from service.observability import configure_logging, process_stopped, request_id_middleware
from service.openapi import complete_openapi, docs_assets_router, openapi_config, prepare_openapi
from service.privacy.controllers import AuditController, PrivacyController
from service.privacy.services import erase_due
from service.registry import services as registry_services
from service.registry import trainings
from service.registry.controllers import CredentialController, TrainingAdminController, WorkerController
from service.registry.domain import GUANGDONG_TZ
from service.registry.issuer import IssuerClient
from service.reports import flags
from service.reports.controllers import IntegrityFlagController, ReportController, SubsidyController
from service.security import IdNumberCipher, client_address, dummy_password_hash
from service.settings import Settings
from service.stores import ResilientStore, make_stores
from service.system.controllers import health, ready
from service.taxonomy.controllers import TaxonomyController
from service.taxonomy.services import load_taxonomy
from service.web.common import PAGE_EXCEPTION_HANDLERS, template_config
from service.web.routes import web_routers
from service.web.session import csrf_middleware, session_config, session_principal_middleware

API_VERSION = "1.0.0"


def create_app(
    settings: Settings, *, http_transport: httpx.AsyncBaseTransport | None = None, resolver: Resolver | None = None
) -> Litestar:
    """The service. `http_transport` replaces the network for outbound calls (webhooks,
    the certificate issuer): tests pass an `httpx.MockTransport`; `resolver` replaces DNS
    for the webhook address checks."""
    configure_logging(settings.log_level)
    link_domains()
    stores, redis_health = make_stores(settings)
    app = Litestar(
        route_handlers=[
            health,
            ready,
            AccountController,
            AgencyController,
            TaxonomyController,
            WorkerController,
            CredentialController,
            TrainingAdminController,
            JobRequestController,
            WorkerSideController,
            OfferController,
            PlacementController,
            StaffingController,
            SuspensionController,
            ReviewController,
            ComplaintController,
            IntegrityController,
            WebhookController,
            ReportController,
            SubsidyController,
            IntegrityFlagController,
            PrivacyController,
            AuditController,
            docs_assets_router(),
            *web_routers(),
        ],
        lifespan=[_lifespan],
        guards=[require_authenticated],
        middleware=_middleware(settings),
        # Problem details for the API; an HTML page for a person's browser.
        exception_handlers={**EXCEPTION_HANDLERS, **PAGE_EXCEPTION_HANDLERS},
        stores=stores,
        openapi_config=openapi_config(API_VERSION),
        template_config=template_config(),
        cors_config=CORSConfig(allow_origins=[], allow_methods=["GET", "POST", "PATCH", "DELETE"]),
        request_max_body_size=settings.max_body_bytes,
        state=State(
            {
                "settings": settings,
                "redis_health": redis_health,
                "http_transport": http_transport,
                "resolver": resolver or system_resolver,
            }
        ),
        logging_config=None,
        debug=False,
    )
    complete_openapi(app)
    # Outermost, around Litestar's own routing: requests to unknown routes get a request id
    # and an access log line too (app-level middleware only runs for matched routes).
    # Inside it, the bound on requests in progress: the queue's wait is in the logged time.
    app.asgi_handler = request_id_middleware(bounded(app.asgi_handler, settings.max_concurrent_requests))
    return app


def app_from_environment() -> Litestar:
    """The app of one of several server processes (`WORKERS` > 1), from the environment."""
    from service.settings import load_settings

    return create_app(load_settings())


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(await resolve_database_url(settings))
    await start_pool(engine, **pool_options(settings))
    # Reads that may lag (the index's loads and refreshes, reports) on DATABASE_READ_URL if set.
    read_engine = engine
    if settings.database_read_url:
        read_engine = make_engine(settings.database_read_url)
        try:
            await start_pool(read_engine, **pool_options(settings))
        except BaseException:
            await engine.close_connection_pool()
            raise
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0), follow_redirects=False, transport=app.state.http_transport
    )
    background: list[asyncio.Task] = []
    try:
        bind_tables(engine, read_engine)
        app.state.engine = engine
        app.state.read_engine = read_engine
        app.state.http = http
        app.state.cipher = cipher = IdNumberCipher(settings.data_keys, settings.data_key_version)
        app.state.taxonomy = taxonomy = await load_taxonomy()
        app.state.vocabulary = SkillVocabulary.shared(taxonomy.skills, taxonomy.umbrellas)
        app.state.matcher = new_candidate_index(app)
        app.state.issuer = (
            IssuerClient(http, settings.certificate_issuer_url) if settings.certificate_issuer_url else None
        )
        app.state.integrity_checks = checks = flags.CheckScheduler()
        trainings.AFTER_IMPORT_HOOKS[:] = [lambda _kind, _institution: _schedule(checks)]
        app.state.dispatcher = dispatcher = WebhookDispatcher(
            engine,
            http,
            cipher,
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_seconds,
            allow_private=settings.allow_private_webhooks,
            poll_seconds=settings.webhook_poll_seconds,
            resolve=app.state.resolver,
        )
        # Callers remembered for a few seconds, forgotten when PostgreSQL announces a change.
        app.state.callers = callers = CallerCache()
        background.append(asyncio.create_task(callers.listen(engine), name="caller-cache"))
        # The hash an unknown phone's login is checked against, made off the event loop now,
        # so that no login pays for it (its time would tell that the phone is unknown).
        background.append(asyncio.create_task(anyio.to_thread.run_sync(dummy_password_hash), name="dummy-hash"))
        # The OpenAPI document, likewise: a second of CPU no request should wait for on the loop.
        background.append(asyncio.create_task(anyio.to_thread.run_sync(prepare_openapi, app), name="openapi"))
        if settings.warm_matcher:
            background.append(asyncio.create_task(app.state.matcher.ensure_fresh(), name="warm-matcher"))
        if settings.index_checkpoint_seconds:
            background.append(
                asyncio.create_task(
                    keep_checkpoints(lambda: app.state.matcher, settings.index_checkpoint_seconds),
                    name="index-checkpoints",
                )
            )
        if settings.run_dispatcher:
            background.append(asyncio.create_task(dispatcher.run(), name="webhook-dispatcher"))
            background.append(asyncio.create_task(_housekeeping(settings.erasure_retention_days), name="housekeeping"))
        yield
    finally:
        app.state.integrity_checks.cancel()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await http.aclose()
        await engine.close_connection_pool()
        if read_engine is not engine:
            await read_engine.close_connection_pool()
        await _close_redis(app)
        process_stopped()


def pool_options(settings: Settings) -> dict:
    """The connection pool: its size, and how long a connection or a statement may take
    before the request answers 503 (a paused database must not hold every request)."""
    options: dict = {"min_size": settings.db_pool_min, "max_size": settings.db_pool_max}
    if settings.db_connect_timeout_seconds:
        options["timeout"] = settings.db_connect_timeout_seconds
    if settings.db_command_timeout_seconds:
        options["command_timeout"] = settings.db_command_timeout_seconds
    return options


def link_domains() -> None:
    """Every link from a lower domain to a higher one, in one place: the registry tells the
    employment domain when a worker's facts change (her rating is recomputed) and asks it
    for blacklisting causes; the matcher's calendar (`busy=`) is in `new_candidate_index`."""
    registry_services.link(change_hooks=[integrity.recompute], blacklist_causes=[integrity.serious_complaint_blacklist])
    worker_side.link(employer_records=employer_records)


def new_candidate_index(app: Litestar) -> CandidateIndex:
    """The matcher's index, reading the registry (its bulk load and refreshes on the read
    engine: a replica's lag delays a change in the rankings, and the index's version is the
    transaction id horizon of what it read, so it reads nothing twice and misses nothing;
    a page ranked there is checked on the primary for workers no longer to be shown)
    and the employment domain's placements (on the primary: a placement must block the
    worker at once). Its checkpoints live on the primary (UNLOGGED tables, which a
    replica does not hold)."""
    settings = app.state.settings
    return CandidateIndex(
        app.state.taxonomy,
        DatabaseFacts(app.state.read_engine, load_chunks=settings.index_load_connections),
        busy=busy_periods,
        may_lag=app.state.read_engine is not app.state.engine,
        checkpoints=(
            CheckpointStore.of(app.state.engine, max_age_seconds=settings.index_checkpoint_seconds)
            if settings.index_checkpoint_seconds
            else None
        ),
    )


async def _schedule(checks: flags.CheckScheduler) -> None:
    checks.request()


async def _housekeeping(erasure_retention_days: int) -> None:
    """Hourly: forget old idempotency keys; re-rate workers whose rating ages by itself;
    erase the personal fields of workers whose erasure request passed the retention period.
    Nightly (the first round between 02:00 and 05:00 Guangdong time): the subsidy-integrity check."""
    checked_on = None
    while True:
        try:
            await forget_old_keys()
            await erase_due(retention_days=erasure_retention_days)
            while await refresh_aged() > 0:
                await asyncio.sleep(0)
            now = datetime.now(GUANGDONG_TZ)
            if 2 <= now.hour < 5 and checked_on != now.date():
                checked_on = now.date()
                await flags.run_check("nightly")
        except Exception:  # noqa: BLE001 - retried next round
            logging.getLogger(__name__).exception("housekeeping failed")
        await asyncio.sleep(3600)


async def _close_redis(app: Litestar) -> None:
    store = app.stores.get("readiness")
    if isinstance(store, ResilientStore):
        await store.redis._redis.aclose(close_connection_pool=True)


def _middleware(settings: Settings) -> list:
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["/health", "/ready"],
        store="rate_limit",
        # The same client address as the login throttle: forwarded headers only from TRUSTED_PROXIES.
        identifier_for_request=client_address,
        middleware_class=AddressRateLimitMiddleware,
    )
    # Metrics are collected here and served apart, on METRICS_HOST:METRICS_PORT (observability.serve_metrics).
    prometheus = PrometheusConfig(app_name="nanyue", prefix="nanyue", group_path=True)
    return [
        prometheus.middleware,
        rate_limit.middleware,
        # Pages: the session cookie (never read on /api/), then who the session names.
        session_config(settings).middleware,
        DefineMiddleware(AuthMiddleware, exclude=[p for p in UNAUTHENTICATED_PATHS if p != "/metrics"]),
        session_principal_middleware(),
        # Innermost, where Litestar puts its own CSRF check (tokens under earlier keys too).
        csrf_middleware(settings),
    ]
