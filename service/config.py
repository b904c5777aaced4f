"""Every setting gradflow reads, with its default from config/defaults.toml.

One place declares them so that a deployment can see all knobs at once; environment variables
GRADFLOW_<NAME> override the file (tests set them too), nothing else reads os.environ.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "config" / "defaults.toml"
ENV_PREFIX = "GRADFLOW_"
# The development key shipped in earlier versions of config/defaults.toml: public, so never accepted.
PUBLISHED_SECRET_KEYS = frozenset({"dev-only-change-me"})
MIN_SECRET_KEY_LENGTH = 32
SESSION_COOKIE_SECURE_VALUES = ("auto", "true", "false")


class InsecureConfiguration(RuntimeError):
    """A setting that would make the deployment unsafe; the app refuses to start."""


def check_secret_key(secret_key: str) -> None:
    """Refuse a missing, short or published secret: with it anyone could forge an admin session."""
    if not secret_key:
        raise InsecureConfiguration(
            "GRADFLOW_SECRET_KEY is not set: set it to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'")
    if secret_key in PUBLISHED_SECRET_KEYS:
        raise InsecureConfiguration(
            "GRADFLOW_SECRET_KEY is the published development default: set it to your own random value of at "
            f"least {MIN_SECRET_KEY_LENGTH} characters, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise InsecureConfiguration(
            f"GRADFLOW_SECRET_KEY is too short ({len(secret_key)} characters): it must have at least "
            f"{MIN_SECRET_KEY_LENGTH}, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'")


@dataclass(frozen=True)
class Settings:
    database_url: str
    process: str
    secret_key: str
    audit_key: str
    instance_path: str
    codes_dir: str
    codes_version: str
    deadline: str
    graduation_year: int
    identity_provider: str
    identity_http_url: str
    identity_http_timeout: float
    identity_token_seconds: int
    max_upload_bytes: int
    login_max_failures: int
    login_lock_seconds: int
    login_address_max_failures: int
    login_account_slow_after: int
    login_slow_seconds: float
    identity_max_failures: int
    session_lifetime_seconds: int
    session_cookie_secure: str
    trusted_proxies: int
    sqlite_busy_timeout: float
    sqlite_checkpoint_seconds: float
    log_level: str
    list_exact_count_limit: int
    roster_max_rows: int
    roster_max_columns: int
    roster_max_cells: int
    roster_max_unpacked_bytes: int
    roster_max_compression_ratio: int
    notify_worker: bool
    notify_poll_seconds: float
    notify_batch_size: int
    notify_max_attempts: int
    notify_backoff_seconds: float
    notify_lease_seconds: float
    notify_schedule_seconds: float
    notify_quiet_hours: str
    notify_digest_hour: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    smtp_sender: str
    smtp_timeout: float
    webhook_url: str
    webhook_secret: str
    webhook_timeout: float
    province_counts_seconds: float

    def path(self, value: str) -> Path:
        """Resolve a configured path against the project root unless it is absolute."""
        p = Path(value)
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def process_path(self) -> Path:
        return self.path(self.process)

    @property
    def codes_path(self) -> Path:
        return self.path(self.codes_dir) / self.codes_version

    @property
    def instance_dir(self) -> Path:
        return self.path(self.instance_path)

    @property
    def resolved_database_url(self) -> str:
        """Empty: gradflow.db in the instance folder. SQLite URLs with a relative file are resolved
        against the project root."""
        url = self.database_url or "sqlite:///" + str(self.instance_dir / "gradflow.db")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///"):]
            if rel and rel != ":memory:":
                return "sqlite:///" + str(self.path(rel))
        return url


def _coerce(kind: type, raw: str) -> object:
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Defaults from the TOML file, then GRADFLOW_* variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    with DEFAULTS_FILE.open("rb") as fh:
        values: dict[str, object] = tomllib.load(fh)
    types = {"int": int, "float": float, "str": str, "bool": bool}
    for f in fields(Settings):
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = _coerce(types.get(str(f.type), str), raw)
    values.update(overrides)
    unknown = set(values) - {f.name for f in fields(Settings)}
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    secure = str(values.get("session_cookie_secure", "auto")).strip().lower()
    if secure not in SESSION_COOKIE_SECURE_VALUES:
        raise ValueError(f"session_cookie_secure must be one of {SESSION_COOKIE_SECURE_VALUES}, not {secure!r}")
    values["session_cookie_secure"] = secure
    return Settings(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return load_settings()
