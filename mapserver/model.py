"""The records the store keeps, one dataclass per layer, and their shared checks.

All geometries are shapely 2 objects in WGS-84 (EPSG:4326), axis order
(longitude, latitude), degrees. Times are timezone-aware UTC datetimes.
Both store backends run :func:`check_record` before writing, so a record that
one backend refuses is refused by the other with the same words.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

GRID_LEVELS = {1: "street", 2: "community", 3: "compound", 4: "building"}
GRID_KINDS = ("base", "special")
SPECIAL_SUBTYPES = ("school", "hospital", "market", "business_tower", "industrial_park", "park", "station", "other")
STAFF_ROLES = (
    "grid_leader",  # 网格长
    "grid_worker",  # 网格员
    "instructor",  # 网格指导员
    "police_liaison",  # 网格警务员
    "mediator",  # 网格调解员
    "safety_officer",  # 网格安全员
    "volunteer",  # 志愿者
)
CAMERA_STATUSES = ("online", "offline", "fault", "unknown")
SEVERITIES = ("general", "important", "urgent")  # 一般 / 重要 / 重要紧急
INCIDENT_SOURCES = ("grid_worker", "public_app", "video_patrol", "hotline", "department")
INCIDENT_STATUSES = ("reported", "dispatched", "grabbed", "accepted", "joint", "handled", "verified", "closed",
                     "returned")  # the states of mapserver.incidents.lifecycle
ESCALATIONS = ("routine", "key")  # 常规哨 (street level) / 重点哨 (district level)
SATISFACTIONS = ("satisfied", "basically_satisfied", "unsatisfied")  # a follow-up's 满意 / 基本满意 / 不满意
SATISFIED = SATISFACTIONS[:2]
"""The follow-up results that keep a case closed (and count as satisfied in the satisfaction rate)."""
MAX_TEXT = 2000
MAX_INT = 2**31 - 1
"""The largest whole number a record's integer field holds (PostgreSQL keeps them as 32-bit integers)."""
MAX_VERSION = MAX_INT
"""The largest incident version."""


@dataclass(frozen=True)
class Grid:
    """A grid polygon (网格): level 1 street … level 4 building; base or special (专属网格)."""

    code: str
    level: int
    name: str
    geom: BaseGeometry
    parent_code: str | None = None
    kind: str = "base"
    subtype: str | None = None
    households: int | None = None
    population: int | None = None
    division_code: str | None = None  # a street's administrative division (county 区县, GB/T 2260 code)

    LAYER: ClassVar[str] = "grids"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Division:
    """An administrative division (行政区划): GB/T 2260 ``code`` (e.g. '411602'), ``name``, ``level``
    ('province', 'city' or 'county') and the code of the division above it (None for the top). Not a map layer:
    its area is that of the street grids naming it (``Grid.division_code``)."""

    code: str
    name: str
    level: str
    parent_code: str | None = None


@dataclass(frozen=True)
class GridStaff:
    """A person responsible for a grid, with the role they hold there; ``id`` is given by the store."""

    grid_code: str
    role: str
    name: str
    phone: str | None = None
    unit: str | None = None
    id: int | None = None

    LAYER: ClassVar[str] = "grid_staff"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class Camera:
    """A video camera (雪亮工程).

    Point; view direction in degrees clockwise from north; field of view in degrees; range in metres.
    """

    code: str
    name: str
    geom: BaseGeometry
    direction_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    status: str = "unknown"
    last_seen: datetime | None = None

    LAYER: ClassVar[str] = "cameras"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("Point",)


@dataclass(frozen=True)
class CameraVideo:
    """Where a camera's live stream (HLS ``.m3u8``) and snapshot are, on the intranet video platform or a GB/T 28181
    gateway: absolute http(s) URLs (:func:`mapserver.video.addresses.url_problem`), None when there is none. Kept
    apart from :class:`Camera`: only roles with video rights read them (:data:`mapserver.roles.VIDEO`)."""

    code: str
    stream_url: str | None = None
    snapshot_url: str | None = None


@dataclass(frozen=True)
class Place:
    """A key place (重点场所): school, hospital, market, station …, as point or polygon."""

    code: str
    name: str
    kind: str
    geom: BaseGeometry

    LAYER: ClassVar[str] = "places"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("Point", "Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Address:
    """A standard address (标准地址, 一标三实) and its point."""

    code: str
    text: str
    geom: BaseGeometry

    LAYER: ClassVar[str] = "addresses"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("Point",)


@dataclass(frozen=True)
class Road:
    """A road centre line with its class (e.g. primary, secondary, residential)."""

    code: str
    name: str
    road_class: str
    geom: BaseGeometry
    oneway: bool = False

    LAYER: ClassVar[str] = "roads"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("LineString",)


@dataclass(frozen=True)
class Incident:
    """A reported event (事件) and where it stands in the closed loop.

    ``grid_code`` is the finest base grid at report time and ``grid_l1`` …
    ``grid_l4`` its chain (street … building), kept so measures can be grouped
    by any level. ``due_at``/``warn_at`` come from the deadline rules;
    ``h3_cell`` is the H3 cell of the point at the configured resolution.
    ``version`` grows with every transition (optimistic concurrency).
    """

    id: str
    geom: BaseGeometry
    reported_at: datetime
    category: str
    severity: str = "general"
    status: str = "reported"
    grid_code: str | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "grid_worker"
    address: str = ""
    reporter: str = ""
    unit: str | None = None
    grid_l1: str | None = None
    grid_l2: str | None = None
    grid_l3: str | None = None
    grid_l4: str | None = None
    h3_cell: str | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    dispatched_at: datetime | None = None
    closed_at: datetime | None = None
    escalation: str | None = None
    version: int = 1

    LAYER: ClassVar[str] = "incidents"
    GEOM_TYPES: ClassVar[tuple[str, ...]] = ("Point",)


@dataclass(frozen=True)
class IncidentEvent:
    """One step of an incident's timeline: who moved it from which status to which, when, and why."""

    incident_id: str
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str = ""
    unit: str | None = None
    satisfaction: str | None = None  # a follow-up's result (mapserver.incidents.lifecycle.SATISFACTION)
    seq: int | None = None  # the entry's number in the store, once stored (photos name the entry they belong to)


@dataclass(frozen=True)
class Callout:
    """A department a whistle named to report in (吹哨报到): by when, and when and by whom it reported."""

    incident_id: str
    department: str
    called_at: datetime
    called_by: str
    report_by: datetime
    reported_at: datetime | None = None
    reported_by: str | None = None

    def overdue(self, now: datetime) -> bool:
        """Whether the report-by time has passed without a report-in (a late report-in is no longer overdue)."""
        return self.reported_at is None and self.report_by < now


@dataclass(frozen=True)
class Assessment:
    """What the loop keeps of an incident besides its record (一单一反馈一考评): the follow-up of its latest
    closing, how often an unsatisfied reporter reopened it, and the departments its whistles called out.

    Kept apart from :class:`Incident` because imports, exports and the columnar paths carry the reported
    record only; the loop alone writes these.
    """

    satisfaction: str | None = None
    follow_up_comment: str = ""
    followed_up_at: datetime | None = None
    reopen_count: int = 0
    callouts: tuple[Callout, ...] = ()

    def followed_up(self, closed_at: datetime | None) -> bool:
        """Whether the closing at ``closed_at`` has had its follow-up (one per closing; a case closed without a
        time, as an import may hold, has one closing)."""
        if self.followed_up_at is None:
            return False
        return closed_at is None or self.followed_up_at >= closed_at

    @property
    def pending(self) -> tuple[Callout, ...]:
        """The called-out departments that have not reported in."""
        return tuple(c for c in self.callouts if c.reported_at is None)


RECORD_TYPES: dict[str, type] = {
    cls.LAYER: cls for cls in (Grid, GridStaff, Camera, Place, Address, Road, Incident)
}


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of a record type, in declaration order (made once per type: every write asks)."""
    return tuple(f.name for f in fields(cls))


@functools.cache
def time_fields(cls: type) -> tuple[str, ...]:
    """The fields of a record type that hold datetimes (made once per type: every row read asks)."""
    return tuple(f.name for f in fields(cls) if "datetime" in str(f.type))


def geometry_problems(geom: Any, allowed: tuple[str, ...]) -> list[str]:
    """Why a geometry cannot be stored (empty list when it can): type, finiteness, range, validity."""
    if not isinstance(geom, BaseGeometry):
        return [f"geometry missing or not a geometry (got {type(geom).__name__})"]
    if geom.is_empty:
        return ["geometry is empty"]
    if geom.geom_type not in allowed:
        return [f"geometry type {geom.geom_type} not allowed here; expected {' or '.join(allowed)}"]
    if isinstance(geom, Point):  # a report's point: a finite point in range is valid; no arrays for one pair
        return _point_problems(geom.x, geom.y)
    coords = shapely.get_coordinates(geom)
    if not bool(((coords == coords) & (abs(coords) != math.inf)).all()):
        return ["coordinate is NaN or infinite"]
    lon, lat = coords[:, 0], coords[:, 1]
    if (abs(lon) > 180).any():
        return [f"longitude {float(lon[abs(lon) > 180][0])} outside -180..180"]
    if (abs(lat) > 90).any():
        return [f"latitude {float(lat[abs(lat) > 90][0])} outside -90..90"]
    if not geom.is_valid:
        return [f"invalid geometry: {explain_validity(geom)}"]
    return []


def _point_problems(lon: float, lat: float) -> list[str]:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return ["coordinate is NaN or infinite"]
    if abs(lon) > 180:
        return [f"longitude {lon} outside -180..180"]
    if abs(lat) > 90:
        return [f"latitude {lat} outside -90..90"]
    return []


def _text_problems(record: Any) -> list[tuple[str, str]]:
    out = []
    for name in field_names(type(record)):
        value = getattr(record, name)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            out.append((name, f"longer than {MAX_TEXT} characters"))
        elif isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold one
            out.append((name, "holds a NUL character"))
    return out


def _enum(value: Any, allowed: tuple[Any, ...] | dict[Any, Any], name: str) -> list[tuple[str, str]]:
    if value in allowed:
        return []
    return [(name, f"{value!r} is not one of {', '.join(map(str, allowed))}")]


def _layer_problems(record: Any) -> list[tuple[str, str]]:
    if isinstance(record, Grid):
        out = _enum(record.level, GRID_LEVELS, "level") + _enum(record.kind, GRID_KINDS, "kind")
        if record.level > 1 and not record.parent_code:
            out.append(("parent_code", f"a level-{record.level} grid needs a parent grid"))
        if record.level == 1 and record.parent_code:
            out.append(("parent_code", "a level-1 (street) grid has no parent"))
        for name in ("households", "population"):
            value = getattr(record, name)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_INT):
                out.append((name, f"must be a whole number 0..{MAX_INT}, got {value!r}"))
        return out
    if isinstance(record, GridStaff):
        return _enum(record.role, STAFF_ROLES, "role")
    if isinstance(record, Camera):
        out = _enum(record.status, CAMERA_STATUSES, "status")
        for name, low, high in (("direction_deg", 0, 360), ("fov_deg", 0, 360), ("range_m", 0, 10_000)):
            value = getattr(record, name)
            if value is not None and not (low <= value <= high):
                out.append((name, f"{value!r} outside {low}..{high}"))
        return out
    if isinstance(record, Incident):
        out = _enum(record.severity, SEVERITIES, "severity") + _enum(record.source, INCIDENT_SOURCES, "source")
        out += _enum(record.status, INCIDENT_STATUSES, "status")
        if record.escalation is not None:
            out += _enum(record.escalation, ESCALATIONS, "escalation")
        if not (isinstance(record.version, int) and 1 <= record.version <= MAX_VERSION):
            out.append(("version", f"must be a whole number 1..{MAX_VERSION}, got {record.version!r}"))
        return out
    return []


def check_record(record: Any) -> list[tuple[str, str]]:
    """Every (field, reason) that stops a record from being stored; empty when it is fine."""
    out = _text_problems(record) + _layer_problems(record)
    key = getattr(record, "code", None) if not isinstance(record, (Incident, GridStaff)) else None
    if key is not None and not (isinstance(key, str) and key.strip()):
        out.append(("code", "code is empty"))
    if record.GEOM_TYPES:
        out += [("geom", reason) for reason in geometry_problems(record.geom, record.GEOM_TYPES)]
    return out
