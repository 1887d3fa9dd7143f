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
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from mapserver.incidents.settings import CameraSettings, IncidentSettings
from mapserver.patrol.settings import PatrolSettings
from mapserver.photos.settings import PhotoSettings
from mapserver.video.settings import VideoSettings

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
    read_url: list[str] = Field(default_factory=list, description="PostGIS standbys serving the reads that "
                                "tolerate staleness (a URL, a multi-host URL or a list); none: every read on url")
    max_replica_lag_s: float = Field(5.0, gt=0, le=3600, description="a standby further behind the primary than "
                                     "this (seconds) serves no reads until it catches up")
    incident_retention_months: int = Field(0, ge=0, le=1200, description="PostGIS: `mapserver partitions` detaches "
                                           "incidents' months older than this many into the archive schema (0: "
                                           "keep every month)")

    @field_validator("read_url", mode="before")
    @classmethod
    def _read_urls(cls, value: Any) -> Any:
        # One URL, or none as an empty string (``${MAPSERVER_READ_STORE:-}``), is a list of one or of none.
        if value is None or value == "":
            return []
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _standbys_need_postgis(self) -> StoreSettings:
        parts = urlsplit(self.url)
        attrs = parse_qs(parts.query).get("target_session_attrs", [""])[-1]
        if "," in parts.netloc.rpartition("@")[2] and attrs not in ("read-write", "primary"):
            raise ValueError("a store.url naming several hosts needs ?target_session_attrs=read-write (or "
                             "primary), so that writes find the primary and never a standby")
        for url in self.read_url:
            if not url.startswith(("postgresql://", "postgres://")):
                raise ValueError(f"store.read_url {url.split('@')[-1]!r} is not a postgresql:// URL")
        if self.read_url and not self.url.startswith(("postgresql://", "postgres://")):
            raise ValueError("store.read_url needs store.url to be PostGIS (postgresql://…) too")
        return self


ServerKind = Literal["gunicorn", "uwsgi"]
"""The HTTP servers ``mapserver serve`` can run: gunicorn (a dependency) or uWSGI (the ``mapserver[uwsgi]`` extra)."""


class ServerSettings(_Section):
    kind: ServerKind = Field("gunicorn", description="the HTTP server `mapserver serve` runs")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(4, ge=1, le=64, description="worker processes for `mapserver serve`")
    threads: int = Field(1, ge=1, le=64, description="request threads per worker process")
    max_request_mb: float = Field(16.0, gt=0, le=1024, description="larger request bodies get 413")
    trusted_proxies: int = Field(0, ge=0, le=5, description="reverse proxies in front (nginx: 1) whose "
                                                             "X-Forwarded-For names the client")


class OgcSettings(_Section):
    """The OGC API – Features service under /ogc (mapserver/ogc): output CRSs beyond the built-in ones, and how long
    a filtered read may run."""

    crs: list[int] = Field(default_factory=list, description="EPSG codes of more output CRSs (the district's "
                                                               "projected frames), beside CRS84, 4326, 4490, 4547")
    query_timeout_s: float = Field(10.0, gt=0, le=120, description="a filtered read stopped after this long → 400")

    @model_validator(mode="after")
    def _known_codes(self) -> OgcSettings:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        for code in self.crs:
            try:
                CRS.from_epsg(code)
            except CRSError:
                raise ValueError(f"EPSG:{code} is not a CRS this machine's PROJ database knows") from None
        return self


StyleValue = str | int | float | bool | list[str] | list[int] | list[float] | dict[str, str]


class BasemapSettings(_Section):
    """What lies under the map layers: nothing (dark background), an intranet XYZ server or a local MBTiles file."""

    kind: Literal["none", "xyz", "mbtiles"] = "none"
    url: str | None = Field(None, description="xyz: tile URL template, e.g. http://10.1.2.3/t/{z}/{x}/{y}.png")
    path: str | None = Field(None, description="mbtiles: file path, relative to the config file's folder")
    max_zoom: int = Field(18, ge=0, le=22, description="deepest zoom level the tiles exist for")
    attribution: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _source_given(self) -> BasemapSettings:
        if self.kind == "xyz":
            if not self.url or not re.match(r"^https?://[^/\s]+/", self.url):
                raise ValueError("basemap kind 'xyz' needs url: an http(s):// template")
            if not all(part in self.url for part in ("{z}", "{x}", "{y}")):
                raise ValueError("basemap url must contain {z}, {x} and {y}")
        if self.kind == "mbtiles" and not self.path:
            raise ValueError("basemap kind 'mbtiles' needs path: an .mbtiles file")
        return self


class MapLayerSettings(_Section):
    """One entry of the big screen's layer list: a module of ``layers/`` with its parameters and style."""

    name: str = Field(description="a module in layers/ (e.g. grids, cameras), or another package's by dotted path")
    id: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$", description="unique id; default: name")
    params: dict[str, StyleValue] = Field(default_factory=dict, description="what the layer shows, e.g. level: 2")
    style: dict[str, StyleValue] = Field(default_factory=dict, description="overrides of the layer's default style")
    visible: bool = Field(True, description="switched on when the page opens")
    min_zoom: int = Field(0, ge=0, le=22, description="drawn only from this zoom level on")

    @property
    def key(self) -> str:
        """The id the page and the API know this entry by."""
        return self.id or self.name

    @model_validator(mode="after")
    def _known_layer(self) -> MapLayerSettings:
        from layers import check_entry  # layers/ knows its modules; imported only when a config is checked

        check_entry(self.name, params=self.params, style=self.style)
        return self


def _default_layers() -> list[MapLayerSettings]:
    return [
        MapLayerSettings(name="district"),
        MapLayerSettings(name="grids", id="grids_street", params={"level": 1}),
        MapLayerSettings(name="grids", id="grids_community", params={"level": 2}, min_zoom=11),
        MapLayerSettings(name="grids", id="grids_compound", params={"level": 3}, min_zoom=14, visible=False),
        MapLayerSettings(name="grids", id="grids_building", params={"level": 4}, min_zoom=16, visible=False),
        MapLayerSettings(name="risk", params={"level": 2}, visible=False),
        MapLayerSettings(name="heat", params={"res": 8, "quantile": 0.5}, visible=False),
        MapLayerSettings(name="hotspots", params={"res": 9, "confidence": 90}),
        MapLayerSettings(name="trend", id="trend_new", params={"category": "new"}, visible=False),
        MapLayerSettings(name="trend", id="trend_intensifying", params={"category": "intensifying"}, visible=False,
                         style={"color": "#d500f9", "fill_color": "#d500f9"}),
        MapLayerSettings(name="blindspots", params={"res": 9}),
        MapLayerSettings(name="patrols"),
        MapLayerSettings(name="places"),
        MapLayerSettings(name="cameras"),
        MapLayerSettings(name="incidents"),
    ]


class MapSettings(_Section):
    """The big screen (一屏统揽): where it opens, what lies beneath, which layers in which order, how often it polls."""

    center: tuple[float, float] = Field((114.70, 33.62), description="lon, lat in degrees (WGS-84)")
    zoom: int = Field(12, ge=0, le=22)
    min_zoom: int = Field(8, ge=0, le=22)
    max_zoom: int = Field(19, ge=0, le=22)
    lang: Literal["zh", "en"] = Field("zh", description="labels when the URL gives no ?lang=")
    window: Literal["today", "7d", "30d"] = Field("today", description="incident window when the page opens")
    timezone: str = Field("Asia/Shanghai", description="IANA zone that decides where 'today' starts")
    refresh_s: float = Field(3.0, ge=1, le=3600, description="seconds between polls of the data APIs")
    token_cookie_days: int = Field(30, ge=0, le=366, description="viewer cookie lifetime; 0: until the browser closes")
    max_features: int = Field(5000, ge=1, le=100_000, description="most features one layer sends the page at once")
    layer_control_collapsed: bool = False
    basemap: BasemapSettings = BasemapSettings()
    layers: list[MapLayerSettings] = Field(default_factory=_default_layers, min_length=1)

    @field_validator("center")
    @classmethod
    def _center_in_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        lon, lat = value
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("center is lon, lat in degrees: -180..180, -90..90")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (IANA name, e.g. Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MapSettings:
        if not self.min_zoom <= self.zoom <= self.max_zoom:
            raise ValueError("zoom must lie between min_zoom and max_zoom")
        keys = [entry.key for entry in self.layers]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"layer id {repeated[0]!r} is used twice; give each entry its own id")
        return self


class LookupSettings(_Section):
    """Point and address → responsible grid."""

    max_snap_m: float = Field(50.0, ge=0, le=5000, description="snap a point outside every grid to one this near")
    min_address_score: float = Field(80.0, ge=0, le=100, description="best address match below this → 404")
    certain_score: float = Field(90.0, ge=0, le=100, description="intake desk: a best address match this high …")
    certain_margin: float = Field(8.0, ge=0, le=100, description="… and this far ahead of the second is certain")
    crossing_max_gap_m: float = Field(30.0, ge=0, le=500,
                                      description="two named roads this near count as crossing (metres)")


class GridSettings(_Section):
    """What the grid check expects of a leaf base grid."""

    households_per_base_grid: tuple[int, int] = Field(
        (300, 500), description="households a leaf base grid should hold (inclusive); outside → a warning")

    @model_validator(mode="after")
    def _ordered(self) -> GridSettings:
        low, high = self.households_per_base_grid
        if not 0 <= low <= high:
            raise ValueError("households_per_base_grid must be [low, high] with 0 ≤ low ≤ high")
        return self


class RiskSettings(_Section):
    """Grid risk colours (亮灯图): the rules that light a grid red, yellow or green (mapserver/analysis/risk.py)."""

    level: int = Field(2, ge=1, le=4, description="grid level when a request names none")
    window_days: int = Field(30, ge=1, le=366, description="days of incidents up to as_of that the rate counts")
    yellow_per_1000: float = Field(20.0, gt=0, description="incidents per 1,000 households in the window → yellow")
    red_per_1000: float = Field(40.0, gt=0, description="incidents per 1,000 households in the window → red")
    hot_res: int = Field(9, ge=5, le=12, description="H3 resolution of the Gi* hot cells over the window")
    hot_confidence: Literal[90, 95, 99] = Field(95, description="a cell this significantly hot (FDR) whose "
                                                                "centre is in the grid → at least yellow")
    overdue_red: int = Field(3, ge=1, description="open items past their deadline at as_of → red")

    @model_validator(mode="after")
    def _ordered(self) -> RiskSettings:
        if self.red_per_1000 <= self.yellow_per_1000:
            raise ValueError("red_per_1000 must be above yellow_per_1000")
        return self


class ScorecardBand(_Section):
    """The limits of one colour of the unit scorecards: a row breaking any of them takes the colour."""

    on_time_below: float = Field(ge=0, le=1, description="on-time rate under this")
    closure_below: float = Field(ge=0, le=1, description="closure rate under this")
    satisfaction_below: float = Field(ge=0, le=1, description="satisfaction rate under this")
    reopen_share_above: float = Field(ge=0, le=1, description="share of cases reopened over this")
    return_share_above: float = Field(ge=0, le=1, description="share of hand-overs sent back (返单) over this")


class ScorecardSettings(_Section):
    """Unit scorecards (单位考评, 三色预警) at /api/scorecards: red 约谈, yellow 整改提示, green 先进典型
    (mapserver/incidents/scorecards.py)."""

    window_days: int = Field(30, ge=1, le=366, description="days up to now a request without since/until covers")
    max_days: int = Field(366, ge=1, le=3660, description="the longest window a request may ask for")
    min_cases: int = Field(5, ge=1, description="rows with fewer cases are too few to rate")
    red: ScorecardBand = ScorecardBand(on_time_below=0.80, closure_below=0.70, satisfaction_below=0.80,
                                       reopen_share_above=0.05, return_share_above=0.10)
    yellow: ScorecardBand = ScorecardBand(on_time_below=0.90, closure_below=0.85, satisfaction_below=0.90,
                                          reopen_share_above=0.02, return_share_above=0.05)

    @model_validator(mode="after")
    def _red_is_worse(self) -> ScorecardSettings:
        red, yellow = self.red, self.yellow
        if (red.on_time_below > yellow.on_time_below or red.closure_below > yellow.closure_below
                or red.satisfaction_below > yellow.satisfaction_below
                or red.reopen_share_above < yellow.reopen_share_above
                or red.return_share_above < yellow.return_share_above):
            raise ValueError("each red limit must be at least as strict as the yellow one")
        return self


class AssessmentWeights(_Section):
    """How much each measure of the grid workers' assessment weighs in the score (any non-negative numbers: the
    score divides by the sum of the weights of the measures that could be judged that month)."""

    reports: float = Field(10, ge=0, description="cases reported, against targets.reports_per_month")
    on_time: float = Field(20, ge=0, description="handlings by the case's deadline, over the handlings")
    reopen: float = Field(10, ge=0, description="one less the share of cases handled that were reopened")
    distance: float = Field(15, ge=0, description="km patrolled, against targets.km_per_month")
    hours: float = Field(15, ge=0, description="hours moving on patrol, against targets.hours_per_month")
    in_grid: float = Field(10, ge=0, description="hours inside the own grid, against targets.in_grid_hours_per_month")
    stops: float = Field(10, ge=0, description="planned stops checked in at, over the planned stops")
    satisfaction: float = Field(10, ge=0, description="satisfied or basically satisfied, over the cases followed up")


class AssessmentTargets(_Section):
    """Full marks of the measures that count up (a month at or above the target scores the whole weight)."""

    reports_per_month: float = Field(20, gt=0, description="cases reported in a month")
    km_per_month: float = Field(100, gt=0, description="kilometres patrolled in a month")
    hours_per_month: float = Field(60, gt=0, description="hours moving on patrol in a month")
    in_grid_hours_per_month: float = Field(60, gt=0, description="hours inside the own grid in a month")


class AssessmentGrades(_Section):
    """The lowest score (0–100) of each grade; below ``basic`` is 不合格 (fail)."""

    excellent: float = Field(90, ge=0, le=100, description="优秀 from this score")
    passing: float = Field(75, ge=0, le=100, alias="pass", description="合格 from this score")
    basic: float = Field(60, ge=0, le=100, description="基本合格 from this score")


class AssessmentSettings(_Section):
    """The monthly assessment of grid workers (网格员考核) at /api/assessment (mapserver/assessment/)."""

    weights: AssessmentWeights = AssessmentWeights()
    targets: AssessmentTargets = AssessmentTargets()
    grades: AssessmentGrades = AssessmentGrades()
    short_of: float = Field(0.8, ge=0, le=1, description="a measure scoring under this share of full marks is "
                                                         "named as a reason")

    @model_validator(mode="after")
    def _grades_in_order(self) -> AssessmentSettings:
        g = self.grades
        if not g.excellent >= g.passing >= g.basic:
            raise ValueError("assessment grades must be excellent ≥ pass ≥ basic")
        if sum(self.weights.model_dump().values()) <= 0:
            raise ValueError("at least one assessment weight must be above 0")
        return self


class PasswordHashSettings(_Section):
    """argon2id cost parameters (RFC 9106's second recommended option by default: ~120 ms on 2 cores)."""

    time_cost: int = Field(3, ge=1, le=20, description="passes over the memory")
    memory_kib: int = Field(65536, ge=8192, le=1_048_576, description="memory per hash, KiB")
    parallelism: int = Field(4, ge=1, le=16, description="lanes (threads) per hash")


class AccountSettings(_Section):
    """People who log in: password rules, hashing, sessions and the limits against guessing."""

    password_min_length: int = Field(10, ge=8, le=128, description="characters a password has at least")
    password_hash: PasswordHashSettings = PasswordHashSettings()
    session_idle_min: float = Field(30, gt=0, le=24 * 60, description="a session unused this long ends")
    session_max_hours: float = Field(12, gt=0, le=24 * 31, description="a session ends this long after login")
    lockout_failures: int = Field(5, ge=1, le=100, description="failed logins of one name or address that lock it")
    lockout_min: float = Field(15, gt=0, le=24 * 60, description="window that counts failures, and the lock's length")

    @model_validator(mode="after")
    def _idle_within_max(self) -> AccountSettings:
        if self.session_idle_min > self.session_max_hours * 60:
            raise ValueError("session_idle_min must not exceed session_max_hours")
        return self


class Settings(_Section):
    """The whole ``config.yaml``."""

    store: StoreSettings = StoreSettings()
    server: ServerSettings = ServerSettings()
    lookup: LookupSettings = LookupSettings()
    grids: GridSettings = GridSettings()
    incidents: IncidentSettings = IncidentSettings()
    cameras: CameraSettings = CameraSettings()
    video: VideoSettings = VideoSettings()
    risk: RiskSettings = RiskSettings()
    scorecards: ScorecardSettings = ScorecardSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    patrol: PatrolSettings = PatrolSettings()
    accounts: AccountSettings = AccountSettings()
    photos: PhotoSettings = PhotoSettings()
    ogc: OgcSettings = OgcSettings()
    map: MapSettings = Field(default_factory=MapSettings)  # a factory: checking it imports layers/
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
