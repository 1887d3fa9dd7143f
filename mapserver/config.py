"""Typed settings, read from ``config.yaml`` and checked before anything starts.

The file is found at ``$MAPSERVER_CONFIG`` or, failing that, ``config.yaml``
at the project root. ``${VAR}`` and ``${VAR:-default}`` in string values are
replaced from the environment; ``$MAPSERVER_STORE`` overrides ``store.url``.
A relative SQLite path is taken relative to the config file's folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    """Where the data lives: ``sqlite:///relative/or/absolute.db`` or ``postgresql://…``."""

    url: str = "sqlite:///data/mapserver.db"
    pool_max: int = Field(8, ge=1, le=200, description="PostGIS connections per worker process")
    connect_timeout_s: int = Field(5, ge=1, le=120)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=64, description="gunicorn worker processes for `mapserver serve`")
    max_request_mb: float = Field(16.0, gt=0, le=1024, description="larger request bodies get 413")


class Settings(_Section):
    """The whole ``config.yaml``."""

    store: StoreSettings = StoreSettings()
    server: ServerSettings = ServerSettings()
    _source: str = PrivateAttr("<defaults>")

    @property
    def source(self) -> str:
        """The file these settings were read from."""
        return self._source


def _substitute(value: Any, env: Mapping[str, str], where: str, path: Path) -> Any:
    """Replace ``${VAR:-default}`` in every string of a parsed YAML tree."""
    if isinstance(value, dict):
        return {k: _substitute(v, env, f"{where}.{k}" if where else str(k), path) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, f"{where}[{i}]", path) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{path}: key '{where}' refers to ${{{name}}}, which is not set and has no default")

    return _ENV_REF.sub(repl, value)


def _resolve_sqlite_path(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == prefix + ":memory:":
        return url
    return prefix + str((base / url[len(prefix):]).resolve())


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    return f"key '{key}': {error['msg']} (got {error.get('input')!r})"


def load_settings(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, substitute and validate a config file; raise :class:`ConfigError` naming file and key."""
    env = os.environ if env is None else env
    cfg_path = Path(path or env.get("MAPSERVER_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: config file not found (set MAPSERVER_CONFIG to another file)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    data = _substitute(raw, env, "", cfg_path)
    if env.get("MAPSERVER_STORE"):
        store = data.get("store") if isinstance(data.get("store"), dict) else {}
        data["store"] = {**store, "url": env["MAPSERVER_STORE"]}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{cfg_path}: {problems}") from None
    store_url = _resolve_sqlite_path(settings.store.url, cfg_path.resolve().parent)
    settings = settings.model_copy(update={"store": settings.store.model_copy(update={"url": store_url})})
    settings._source = str(cfg_path)
    return settings
