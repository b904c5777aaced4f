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
    sqlite_busy_timeout: float
    sqlite_checkpoint_seconds: float
    log_level: str
    roster_max_rows: int
    roster_max_columns: int
    roster_max_cells: int
    roster_max_unpacked_bytes: int
    roster_max_compression_ratio: int

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
    return Settings(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return load_settings()
