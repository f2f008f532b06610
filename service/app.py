"""The application factory: `create_app(settings)` wires the domains together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from redis.asyncio import Redis

from service.accounts.auth import AuthMiddleware
from service.accounts.controllers import AccountController, AgencyController
from service.accounts.guards import UNAUTHENTICATED_PATHS, require_authenticated
from service.database import bind_tables, make_engine, resolve_database_url
from service.errors import EXCEPTION_HANDLERS
from service.matching.controllers import JobRequestController
from service.matching.facts import DatabaseFacts
from service.matching.index import CandidateIndex
from service.matching.understanding import SkillVocabulary
from service.observability import configure_logging, request_id_middleware
from service.registry.controllers import CredentialController, WorkerController
from service.security import IdNumberCipher
from service.settings import Settings
from service.system.controllers import health, ready
from service.taxonomy.controllers import TaxonomyController
from service.taxonomy.services import load_taxonomy

API_VERSION = "1.0.0"


def create_app(settings: Settings) -> Litestar:
    configure_logging(settings.log_level)
    return Litestar(
        route_handlers=[
            health, ready, PrometheusController,
            AccountController, AgencyController, TaxonomyController,
            WorkerController, CredentialController, JobRequestController,
        ],
        lifespan=[_lifespan],
        guards=[require_authenticated],
        middleware=_middleware(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        stores=_stores(settings),
        openapi_config=_openapi(),
        cors_config=CORSConfig(allow_origins=[], allow_methods=["GET", "POST", "PATCH", "DELETE"]),
        request_max_body_size=settings.max_body_bytes,
        state=State({"settings": settings}),
        logging_config=None,
        debug=False,
    )


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(await resolve_database_url(settings))
    await engine.start_connection_pool(min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), follow_redirects=False)
    try:
        bind_tables(engine)
        app.state.engine = engine
        app.state.http = http
        app.state.cipher = IdNumberCipher(settings.data_key_bytes)
        app.state.taxonomy = taxonomy = await load_taxonomy()
        app.state.vocabulary = SkillVocabulary(taxonomy.skills)
        app.state.matcher = CandidateIndex(taxonomy, DatabaseFacts(engine))
        yield
    finally:
        await http.aclose()
        await engine.close_connection_pool()
        await _close_redis(app)


def _stores(settings: Settings) -> StoreRegistry:
    """One root store (Redis when configured, else process memory), namespaced per use."""
    if settings.redis_url:
        root = RedisStore(Redis.from_url(settings.redis_url), namespace=settings.store_namespace)
        return StoreRegistry(default_factory=root.with_namespace)
    return StoreRegistry(default_factory=lambda _name: MemoryStore())


async def _close_redis(app: Litestar) -> None:
    store = app.stores.get("readiness")
    if isinstance(store, RedisStore):
        await store._redis.aclose(close_connection_pool=True)


def _middleware(settings: Settings) -> list:
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["/health", "/ready", "/metrics"],
        store="rate_limit",
    )
    prometheus = PrometheusConfig(app_name="nanyue", prefix="nanyue", group_path=True, exclude=["/metrics"])
    return [
        request_id_middleware,
        prometheus.middleware,
        rate_limit.middleware,
        DefineMiddleware(AuthMiddleware, exclude=list(UNAUTHENTICATED_PATHS)),
    ]


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="南粤家政 worker registry and job matcher",
        version=API_VERSION,
        description=(
            "家政服务员登记、培训与证书、匹配与就业。Employers and workers authenticate with a bearer token "
            "(`POST /api/v1/auth/token`); agencies with `X-API-Key`. Errors are RFC 9457 problem details."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
    )
