"""Typed settings, read from the environment once, by the entry points only.

`create_app(settings)` takes a `Settings`; nothing in the package reads the environment
at import time, so tests build apps with exactly the settings they need.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Mapping, get_type_hints

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # PostgreSQL URL; None starts the embedded server with its data in `var_dir/pg`.
    database_url: str | None = None
    # A read-only PostgreSQL URL (a streaming replica) for reads that may lag the primary:
    # the candidate index's loads and refreshes, the bureau's reports. None: DATABASE_URL.
    database_read_url: str | None = None
    # Redis URL; None keeps stores in process memory (one process only).
    redis_url: str | None = None
    # Prefix of every key this deployment writes to Redis.
    store_namespace: str = "nanyue"
    var_dir: Path = PROJECT_ROOT / "var"
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes; more than one needs REDIS_URL (the stores and the match cache are shared).
    workers: int = 1
    # Requests one process works on at once; more wait their turn in arrival order
    # (service/admission.py). 0: no bound.
    max_concurrent_requests: int = 16
    # Prometheus metrics are served only here, apart from the API (operators only);
    # port 0 serves none. `python -m service run` starts this listener.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464

    # Signs bearer tokens.
    secret_key: str
    # Earlier secret keys, still accepted when verifying bearer tokens (never used to sign):
    # keep one here for TOKEN_TTL_SECONDS after a rotation, so nobody is signed out at once.
    old_secret_keys: tuple[str, ...] = ()
    # 32 bytes, base64: AES-GCM key for national ID numbers; the blind index key is derived from it.
    data_key: str
    # The version of `data_key`, written into every new ciphertext and blind index.
    data_key_version: int = 1
    # Earlier data keys by version ("1:base64,2:base64"): old ciphertexts stay readable
    # until `nanyue rotate-keys` has re-encrypted them.
    old_data_keys: tuple[str, ...] = ()
    # Days between a worker's erasure request and the erasure of her personal fields
    # (`nanyue erase-due`, also run hourly by the service).
    erasure_retention_days: int = 30

    token_ttl_seconds: int = 8 * 3600
    max_body_bytes: int = 64 * 1024
    rate_limit_per_minute: int = 600
    login_attempts_per_minute: int = 10
    # Login attempts from one client address per 15 minutes (many people may share one).
    login_attempts_per_address: int = 100
    # Proxies whose X-Forwarded-For / X-Real-IP is believed: addresses or CIDRs,
    # comma-separated in the environment. Empty: the peer address is the client's.
    trusted_proxies: tuple[str, ...] = ()
    # How one-time phone codes are sent: "log" (development: written to the log) or "http"
    # (an SMS gateway at `sms_gateway_url`, authenticated with `sms_gateway_key`).
    sms_sender: str = "log"
    sms_gateway_url: str | None = None
    sms_gateway_key: str | None = None
    # One-time codes requested from one client address per hour (against SMS pumping).
    phone_codes_per_address_per_hour: int = 30
    # ID-number lookups per credential (API key or account) and minute.
    lookups_per_minute: int = 30
    # Failed claims or self-registrations on a taken ID number per worker account and day.
    identity_attempts_per_day: int = 5
    db_pool_min: int = 1
    db_pool_max: int = 10
    # Connections (besides one from the pool) the candidate index opens for its full load,
    # each reading a range of worker ids in the same snapshot; 1: one connection.
    index_load_connections: int = 8
    # Seconds between checkpoints of the candidate index, saved in PostgreSQL for new
    # processes to start from instead of the full load (one process writes at a time, the
    # first right after a full load); 0: no checkpoints, every process loads in full.
    index_checkpoint_seconds: float = 3600.0
    # Seconds to open a database connection, and for one statement, before the request
    # answers 503 (a paused or unreachable PostgreSQL must not hold requests); 0: no limit.
    db_connect_timeout_seconds: float = 5.0
    db_command_timeout_seconds: float = 15.0
    # Seconds a Redis command may take before Redis counts as away (0: no limit), and how
    # often to try it again while it is away (limits are counted per process meanwhile).
    redis_timeout_seconds: float = 0.5
    redis_retry_seconds: float = 1.0
    log_level: str = "INFO"

    offer_ttl_hours: int = 72
    review_edit_hours: int = 72
    # Where certificate numbers are confirmed with the issuing body; None trusts the
    # evaluation institution's own push.
    certificate_issuer_url: str | None = None
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 30.0
    webhook_poll_seconds: float = 5.0
    # Lets webhooks reach loopback and private addresses (tests, private networks).
    allow_private_webhooks: bool = False
    # Runs the webhook dispatcher in this process (tests drive it by hand).
    run_dispatcher: bool = True
    # Loads the matcher's candidate index at start-up rather than at the first match.
    warm_matcher: bool = True

    @property
    def data_key_bytes(self) -> bytes:
        key = base64.b64decode(self.data_key)
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes, base64-encoded")
        return key

    @property
    def data_keys(self) -> dict[int, bytes]:
        """Every data key by version, the current one included."""
        keys = {version: key for version, key in (_versioned_key(entry) for entry in self.old_data_keys)}
        keys[self.data_key_version] = self.data_key_bytes
        return keys


ENVIRONMENTS = ("development", "production")

# Every setting and the environment variable that sets it (the README's table lists them all).
ENV_VARIABLES = {
    "DATABASE_URL": "database_url",
    "DATABASE_READ_URL": "database_read_url",
    "REDIS_URL": "redis_url",
    "STORE_NAMESPACE": "store_namespace",
    "VAR_DIR": "var_dir",
    "APP_ENV": "environment",
    "HOST": "host",
    "PORT": "port",
    "WORKERS": "workers",
    "METRICS_HOST": "metrics_host",
    "METRICS_PORT": "metrics_port",
    "SECRET_KEY": "secret_key",
    "OLD_SECRET_KEYS": "old_secret_keys",
    "DATA_KEY": "data_key",
    "DATA_KEY_VERSION": "data_key_version",
    "OLD_DATA_KEYS": "old_data_keys",
    "ERASURE_RETENTION_DAYS": "erasure_retention_days",
    "TOKEN_TTL_SECONDS": "token_ttl_seconds",
    "MAX_BODY_BYTES": "max_body_bytes",
    "RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
    "LOGIN_ATTEMPTS_PER_MINUTE": "login_attempts_per_minute",
    "LOGIN_ATTEMPTS_PER_ADDRESS": "login_attempts_per_address",
    "TRUSTED_PROXIES": "trusted_proxies",
    "SMS_SENDER": "sms_sender",
    "SMS_GATEWAY_URL": "sms_gateway_url",
    "SMS_GATEWAY_KEY": "sms_gateway_key",
    "PHONE_CODES_PER_ADDRESS_PER_HOUR": "phone_codes_per_address_per_hour",
    "LOOKUPS_PER_MINUTE": "lookups_per_minute",
    "IDENTITY_ATTEMPTS_PER_DAY": "identity_attempts_per_day",
    "DB_POOL_MIN": "db_pool_min",
    "DB_POOL_MAX": "db_pool_max",
    "MAX_CONCURRENT_REQUESTS": "max_concurrent_requests",
    "INDEX_LOAD_CONNECTIONS": "index_load_connections",
    "INDEX_CHECKPOINT_SECONDS": "index_checkpoint_seconds",
    "DB_CONNECT_TIMEOUT_SECONDS": "db_connect_timeout_seconds",
    "DB_COMMAND_TIMEOUT_SECONDS": "db_command_timeout_seconds",
    "REDIS_TIMEOUT_SECONDS": "redis_timeout_seconds",
    "REDIS_RETRY_SECONDS": "redis_retry_seconds",
    "LOG_LEVEL": "log_level",
    "OFFER_TTL_HOURS": "offer_ttl_hours",
    "REVIEW_EDIT_HOURS": "review_edit_hours",
    "CERTIFICATE_ISSUER_URL": "certificate_issuer_url",
    "WEBHOOK_MAX_ATTEMPTS": "webhook_max_attempts",
    "WEBHOOK_BACKOFF_SECONDS": "webhook_backoff_seconds",
    "WEBHOOK_POLL_SECONDS": "webhook_poll_seconds",
    "ALLOW_PRIVATE_WEBHOOKS": "allow_private_webhooks",
    "RUN_DISPATCHER": "run_dispatcher",
    "WARM_MATCHER": "warm_matcher",
}
_ENV_FIELDS = ENV_VARIABLES
_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false"}
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names its environment variable."""


def generate_data_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a `.env` file (KEY=value lines), or nothing when there is none."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: Path | None = None) -> Settings:
    """Build settings from environment variables (empty values count as unset).

    Outside production, a `.env` file in the project root (or `dotenv`) fills variables the
    environment does not set; the environment always wins. Outside production, missing keys
    are generated once and kept in `var/dev-keys.json` (mode 0600) so a newcomer's data
    stays readable across restarts. In production the keys must be given. A value that
    cannot be used raises `SettingsError` naming its variable.
    """
    environ = dict(os.environ if environ is None else environ)
    if environ.get("APP_ENV", "development") != "production":
        environ = {**read_dotenv(dotenv or PROJECT_ROOT / ".env"), **environ}
    raw: dict[str, object] = {
        field: _parse(name, field, environ[name]) for name, field in ENV_VARIABLES.items() if environ.get(name)
    }
    environment = str(raw.get("environment", "development"))
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"APP_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    var_dir = Path(str(raw.get("var_dir", PROJECT_ROOT / "var")))
    missing = [f for f in ("secret_key", "data_key") if f not in raw]
    if missing:
        if environment == "production":
            names = ", ".join(k for k, v in ENV_VARIABLES.items() if v in missing)
            raise SettingsError(f"{names}: required when APP_ENV=production")
        raw.update({k: v for k, v in _dev_keys(var_dir).items() if k in missing})
    if "var_dir" in raw:
        raw["var_dir"] = var_dir
    for listed in ("trusted_proxies", "old_secret_keys", "old_data_keys"):
        if isinstance(raw.get(listed), str):
            raw[listed] = [p.strip() for p in str(raw[listed]).split(",") if p.strip()]
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].strip("`")
        name = next((k for k, v in ENV_VARIABLES.items() if v == field), field)
        raise SettingsError(f"{name}: {exc}") from None
    try:
        key = base64.b64decode(settings.data_key, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise SettingsError("DATA_KEY: expected 32 bytes, base64-encoded")
    if not 1 <= settings.workers <= 64:
        raise SettingsError("WORKERS: expected 1 to 64 processes")
    if settings.workers > 1 and not settings.redis_url:
        raise SettingsError("WORKERS: more than one process needs REDIS_URL (shared stores)")
    if not 1 <= settings.index_load_connections <= 64:
        raise SettingsError("INDEX_LOAD_CONNECTIONS: must be 1-64")
    if not 0 <= settings.index_checkpoint_seconds < float("inf"):
        raise SettingsError("INDEX_CHECKPOINT_SECONDS: must be 0 (no checkpoints) or a number of seconds")
    if settings.db_pool_min > settings.db_pool_max:
        raise SettingsError("DB_POOL_MIN: must not exceed DB_POOL_MAX")
    if settings.max_concurrent_requests < 0:
        raise SettingsError("MAX_CONCURRENT_REQUESTS: must be 0 (no bound) or more")
    if settings.data_key_version < 1:
        raise SettingsError("DATA_KEY_VERSION: must be 1 or more")
    try:
        old = [_versioned_key(entry) for entry in settings.old_data_keys]
    except ValueError as exc:
        raise SettingsError(f"OLD_DATA_KEYS: {exc}") from None
    if settings.data_key_version in {version for version, _ in old}:
        raise SettingsError("OLD_DATA_KEYS: must not name the current DATA_KEY_VERSION")
    if environment == "production":
        refuse_development_keys(settings)
    _check(settings)
    return settings


# Keys that are public (documentation, examples) and so never protect anything.
PUBLIC_KEYS = frozenset(
    {
        "change-me",
        "changeme",
        "secret",
        "development",
        "dev",
        base64.b64encode(bytes(32)).decode(),
    }
)
MIN_SECRET_KEY_LENGTH = 32


def refuse_development_keys(settings: Settings) -> None:
    """Production never runs on a development key: one kept in `var/dev-keys.json` (made
    by a development start), a public example, a short secret or a key of one repeated byte."""
    dev_keys = settings.var_dir / "dev-keys.json"
    generated = json.loads(dev_keys.read_text()) if dev_keys.is_file() else {}
    secrets_in_use = {"SECRET_KEY": settings.secret_key, "DATA_KEY": settings.data_key}
    for name, value in secrets_in_use.items():
        field = ENV_VARIABLES[name]
        if value in PUBLIC_KEYS or value == generated.get(field):
            raise SettingsError(f"{name}: a development key; APP_ENV=production needs a key of its own")
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(f"SECRET_KEY: at least {MIN_SECRET_KEY_LENGTH} characters when APP_ENV=production")
    if len(set(settings.data_key_bytes)) == 1:
        raise SettingsError("DATA_KEY: a development key; APP_ENV=production needs a key of its own")


def _versioned_key(entry: str) -> tuple[int, bytes]:
    """`"2:base64"` → (2, the 32 key bytes)."""
    version, _, encoded = entry.partition(":")
    if not version.strip().isdigit() or int(version) < 1:
        raise ValueError(f"expected VERSION:BASE64_KEY, got {entry[:3]}…")
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ValueError(f"key version {version}: expected 32 bytes, base64-encoded")
    return int(version), key


def _check(settings: Settings) -> None:
    """Refuse settings that would fail later, at the first request."""
    import ipaddress

    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SystemExit(f"TRUSTED_PROXIES: not an address or CIDR: {proxy!r}") from None
    if settings.sms_sender not in ("log", "http"):
        raise SystemExit("SMS_SENDER must be 'log' or 'http'")
    if settings.sms_sender == "http" and not (settings.sms_gateway_url and settings.sms_gateway_key):
        raise SystemExit("SMS_SENDER=http needs SMS_GATEWAY_URL and SMS_GATEWAY_KEY")


def _parse(name: str, field: str, value: str) -> object:
    """One variable's text as its field's type, or a `SettingsError` naming the variable."""
    kind = get_type_hints(Settings)[field]
    if kind is bool:
        if value.strip().lower() not in _BOOLEANS:
            raise SettingsError(f"{name}: expected true or false, got {value!r}")
        return _BOOLEANS[value.strip().lower()]
    if kind in (int, float):
        try:
            number = kind(value.strip())
        except ValueError:
            raise SettingsError(f"{name}: expected {_TYPE_NAMES[kind]}, got {value!r}") from None
        if number < 0 or (name == "PORT" and not 0 < number < 65536):
            raise SettingsError(f"{name}: out of range: {value!r}")
        return number
    if kind is Path:
        return Path(value)
    if name == "LOG_LEVEL":
        if value.strip().upper() not in _LOG_LEVELS:
            raise SettingsError(f"{name}: expected one of {', '.join(_LOG_LEVELS)}, got {value!r}")
        return value.strip().upper()
    if name in ("DATABASE_URL", "REDIS_URL", "CERTIFICATE_ISSUER_URL"):
        scheme = value.partition("://")[0]
        allowed = {
            "DATABASE_URL": ("postgresql", "postgres"),
            "REDIS_URL": ("redis", "rediss", "unix"),
            "CERTIFICATE_ISSUER_URL": ("http", "https"),
        }[name]
        if "://" not in value or scheme not in allowed:
            raise SettingsError(f"{name}: expected a URL starting with {' or '.join(s + '://' for s in allowed)}")
    return value


def _dev_keys(var_dir: Path) -> dict[str, str]:
    path = var_dir / "dev-keys.json"
    if path.exists():
        return json.loads(path.read_text())
    var_dir.mkdir(parents=True, exist_ok=True)
    keys = {"secret_key": secrets.token_urlsafe(48), "data_key": generate_data_key()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    return keys
