"""Chinese map coordinate systems: WGS-84, CGCS2000, GCJ-02, BD-09 and EPSG codes.

Conventions used by every function in this module:

* **Units** are decimal **degrees** for the geographic systems (WGS-84, CGCS2000,
  GCJ-02, BD-09).  For a projected ``EPSG:n`` system the same two arguments carry
  that system's easting/northing in its own units (metres for EPSG:3857 or the
  CGCS2000 Gauss-Kruger zones).
* **Axis order** is always **(lon, lat)**, i.e. (x, y), whatever the EPSG
  registry says; pyproj transformers are built with ``always_xy=True``.
* Functions are vectorised: ``lon``/``lat`` may be Python floats or numpy
  arrays (broadcast against each other).  Two scalars give a tuple of Python
  floats, anything else a tuple of float64 arrays of the broadcast shape.
* Non-finite input never raises: a NaN coordinate comes back NaN.

CRS names (see :func:`parse_crs` for the accepted spellings):

``wgs84``
    WGS-84 geographic (EPSG:4326): GPS receivers, OpenStreetMap, GeoJSON.
``cgcs2000``
    China Geodetic Coordinate System 2000 (EPSG:4490), the national datum of
    Tianditu and official surveying data.  It differs from WGS-84 by a few
    centimetres, far below map resolution, so it is treated as WGS-84 here
    (identity), as is usual for web mapping.
``gcj02``
    GCJ-02 ("Mars coordinates"), the obfuscated system mandated for published
    maps in China: Amap/Gaode, Tencent, Google China.  WGS-84 plus a
    deliberately non-linear offset of a few hundred metres.
``bd09``
    BD-09, Baidu Maps' system: GCJ-02 plus a further small polar distortion
    (about 1 km).  Baidu calls the lon/lat form "bd09ll".
``EPSG:n``
    Any coordinate reference system pyproj knows by EPSG code, converted to and
    from WGS-84 through PROJ.  EPSG:4326 and EPSG:4490 are identity.

The GCJ-02 and BD-09 offsets are only applied inside the customary
"in China" rectangle (see :func:`out_of_china`); elsewhere every conversion is
the identity, which is how the map providers themselves behave.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from pyproj.exceptions import CRSError, ProjError

from mapserver.errors import Problem

__all__ = [
    "ACCEPTED_CRS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOLERANCE_DEG",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_identity_crs",
    "out_of_china",
    "parse_crs",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Coord = float | npt.NDArray[np.float64]
"""A longitude or latitude: a Python float for scalar input, else a float64 array."""

GeometryT = TypeVar("GeometryT")

# --- GCJ-02 constants -------------------------------------------------------
# The leaked reference implementation computes the offset on the Krasovsky 1940
# ellipsoid (the datum of Beijing 1954); every mainstream library
# (coordtransform, coordTransform_py, ...) uses these exact values, so we do too.
_GCJ_A = 6378245.0  # semi-major axis, metres
_GCJ_EE = 0.00669342162296594323  # first eccentricity squared

# The customary "in China" rectangle shared by eviltransform and most GCJ-02
# code.  It is a coarse box (it contains Korea, western Japan, much of South-East Asia)
# and deliberately so: it only has to agree with what other software does so
# that coordinates exchanged with it round-trip.
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# The GCJ-02 offset never exceeds ~0.011 degrees inside the rectangle, so a
# GCJ-02 position farther than this from the box cannot have a WGS-84 pre-image
# inside it; those points skip the inverse iteration altogether.
_INVERSE_MARGIN_DEG = 0.05

# --- BD-09 constants (Baidu's published "bd_encrypt" formula) ---------------
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_BD_RADIAL = 0.00002
_BD_ANGULAR = 0.000003

# Default iteration settings for the numeric inverses.  Both forward maps are
# the identity plus a perturbation whose Jacobian is small (max-norm below
# 0.007 for GCJ-02 and 0.022 for BD-09 over the China rectangle), so each
# fixed-point step gains 1.5-2 decimal digits: from the metre-level starting
# guesses, about 4 steps reach 1e-9 degrees (0.1 mm).  The cap only matters for
# pathological input.  (The GCJ-02 formula has a sqrt(|lon - 105|) term whose
# slope is unbounded on that meridian, but its contribution there is below a
# micrometre, so convergence is unaffected in practice.)
DEFAULT_TOLERANCE_DEG = 1e-9
DEFAULT_MAX_ITER = 30

_IDENTITY_CRS = frozenset({"wgs84", "cgcs2000", "EPSG:4326", "EPSG:4490"})

ACCEPTED_CRS = "wgs84, cgcs2000, gcj02, bd09, or EPSG:<code> (e.g. EPSG:4326, EPSG:3857, EPSG:4547)"
"""Human-readable list of accepted CRS values, used in error messages."""

# Spellings seen in the wild, after lower-casing and removing ' ', '-', '_'.
_ALIASES = {
    "wgs84": "wgs84",
    "crs84": "wgs84",  # OGC CRS84 is WGS-84 in lon/lat order, exactly our convention
    "ogc:crs84": "wgs84",
    "cgcs2000": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}
_EPSG_RE = re.compile(r"^epsg:{1,2}(\d{1,6})$")


# --- array plumbing ---------------------------------------------------------


def _prepare(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return float64 arrays of the broadcast shape and whether both inputs were scalars."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(x, y)
    return x, y, scalar


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool) -> tuple[Coord, Coord]:
    if scalar:
        return float(x), float(y)
    # broadcast_arrays may hand back read-only views of the caller's data;
    # callers get arrays they own.
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _in_box(x: np.ndarray, y: np.ndarray, margin: float = 0.0) -> np.ndarray:
    # Written as a positive test so that NaN compares False, i.e. is "not in China".
    return (
        (x >= _CHINA_LON_MIN - margin)
        & (x <= _CHINA_LON_MAX + margin)
        & (y >= _CHINA_LAT_MIN - margin)
        & (y <= _CHINA_LAT_MAX + margin)
    )


# --- the raw (unmasked) formulas --------------------------------------------


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at a WGS-84 position, in degrees (no rectangle test)."""
    x = lon - 105.0
    y = lat - 35.0
    px = np.pi * x
    py = np.pi * y
    shared = (20.0 * np.sin(6.0 * px) + 20.0 * np.sin(2.0 * px)) * 2.0 / 3.0
    root = np.sqrt(np.abs(x))
    # The two polynomials-plus-sines are in (pseudo) metres on the Krasovsky ellipsoid.
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root
        + shared
        + (20.0 * np.sin(py) + 40.0 * np.sin(py / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(py / 12.0) + 320.0 * np.sin(py / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root
        + shared
        + (20.0 * np.sin(px) + 40.0 * np.sin(px / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(px / 12.0) + 300.0 * np.sin(px / 30.0)) * 2.0 / 3.0
    )
    # Metres to degrees: divide by the meridian and parallel radii of curvature.
    rad_lat = np.radians(lat)
    sin_lat = np.sin(rad_lat)
    magic = 1.0 - _GCJ_EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / (_GCJ_A * (1.0 - _GCJ_EE) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _wgs_to_gcj_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Baidu perturbs the polar form of the GCJ-02 position, then shifts it.
    z = np.hypot(lon, lat) + _BD_RADIAL * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + _BD_ANGULAR * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_to_gcj_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Baidu's published inverse: evaluates the perturbation at the BD-09 point
    # instead of the unknown GCJ-02 one, so it is off by up to ~2e-6 degrees
    # (~20 cm) over China.  Good enough as the starting point of the iteration.
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - _BD_RADIAL * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - _BD_ANGULAR * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _gcj_to_bd_raw(*_wgs_to_gcj_raw(lon, lat))


_Forward = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _solve(
    forward: _Forward,
    target_x: np.ndarray,
    target_y: np.ndarray,
    start_x: np.ndarray,
    start_y: np.ndarray,
    tolerance_deg: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == target`` by the iteration ``p <- p - (forward(p) - target)``.

    This is Newton's method with the Jacobian replaced by the identity, which is
    what it almost is for both ciphers (off by < 0.022), so it converges
    linearly with that small ratio.  A point stops being updated once its last
    correction is below ``tolerance_deg``, so its result does not depend on
    which other points share the batch; NaN points drop out at once and stay
    NaN.  All arrays are 1-D.
    """
    x = start_x.copy()
    y = start_y.copy()
    active = np.arange(x.size)
    for _ in range(max_iter):
        fx, fy = forward(x[active], y[active])
        ex = fx - target_x[active]
        ey = fy - target_y[active]
        x[active] -= ex
        y[active] -= ey
        # NaN > tol is False, so non-finite points leave the active set too.
        active = active[(np.abs(ex) > tolerance_deg) | (np.abs(ey) > tolerance_deg)]
        if active.size == 0:
            break
    return x, y


def _check_iteration(tolerance_deg: float, max_iter: int) -> None:
    if not tolerance_deg > 0.0:
        raise ValueError(f"tolerance_deg must be positive, got {tolerance_deg!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")


def _gcj_to_wgs_raw(
    lon: np.ndarray, lat: np.ndarray, tolerance_deg: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    # Start from the classic one-step approximation g - offset(g) (up to ~5 m off).
    dlon, dlat = _gcj_offset(lon, lat)
    return _solve(_wgs_to_gcj_raw, lon, lat, lon - dlon, lat - dlat, tolerance_deg, max_iter)


def _bd_to_gcj_raw(
    lon: np.ndarray, lat: np.ndarray, tolerance_deg: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0 = _bd_to_gcj_approx(lon, lat)
    return _solve(_gcj_to_bd_raw, lon, lat, x0, y0, tolerance_deg, max_iter)


def _masked_inverse(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    inverse: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[Coord, Coord]:
    """Apply a raw inverse where its *result* lies in the China rectangle; identity elsewhere.

    The rectangle test belongs to the un-obfuscated side (that is where the
    providers apply it), so the inverse decides on the position it computes:
    this makes ``inverse(forward(p)) == p`` for every p, including points a few
    hundred metres inside the rectangle edge whose offset carries them outside.
    """
    x, y, scalar = _prepare(lon, lat)
    out_x = x.copy()
    out_y = y.copy()
    # Only points near the box can have a pre-image in it; skipping the others
    # also keeps the polar cos(lat) -> 0 blow-up of the GCJ formula away.
    near = _in_box(x, y, _INVERSE_MARGIN_DEG)
    if near.any():
        with np.errstate(all="ignore"):
            ix, iy = inverse(x[near], y[near])
        inside = _in_box(ix, iy)
        out_x[near] = np.where(inside, ix, x[near])
        out_y[near] = np.where(inside, iy, y[near])
    return _finish(out_x, out_y, scalar)


def _masked_forward(lon: npt.ArrayLike, lat: npt.ArrayLike, forward: _Forward) -> tuple[Coord, Coord]:
    """Apply a raw forward formula inside the China rectangle, identity elsewhere."""
    x, y, scalar = _prepare(lon, lat)
    out_x = x.copy()
    out_y = y.copy()
    inside = _in_box(x, y)
    if inside.any():
        with np.errstate(all="ignore"):
            fx, fy = forward(x[inside], y[inside])
        out_x[inside] = fx
        out_y[inside] = fy
    return _finish(out_x, out_y, scalar)


# --- public conversions -----------------------------------------------------


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool | npt.NDArray[np.bool_]:
    """Whether a WGS-84 (or GCJ-02) position lies outside the GCJ-02 rectangle.

    This is the customary test shared by GCJ-02 implementations (eviltransform
    and most of its ports): a position is "in China" when
    ``72.004 <= lon <= 137.8347`` and ``0.8293 <= lat <= 55.8271`` (degrees,
    bounds inclusive).  It is a crude box, not the national border: it also
    covers Korea, western Japan (Osaka, but not Tokyo), Taiwan, Hong Kong and
    parts of South-East and Central Asia, where the offset is applied too; that is what keeps coordinates
    interchangeable with other software.  Outside the box no conversion in this
    module changes a coordinate.  NaN counts as outside (so it passes through
    the conversions untouched).

    Returns a Python bool for scalar input, else a boolean array of the
    broadcast shape.
    """
    x, y, scalar = _prepare(lon, lat)
    result = ~_in_box(x, y)
    return bool(result) if scalar else result


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS-84 (lon, lat) degrees to GCJ-02; identity outside the China rectangle."""
    return _masked_forward(lon, lat, _wgs_to_gcj_raw)


def gcj02_to_wgs84(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
) -> tuple[Coord, Coord]:
    """Convert GCJ-02 (lon, lat) degrees to WGS-84 by iterating the forward formula.

    GCJ-02 has no closed-form inverse.  The classic one-step approximation
    (subtract the offset evaluated at the GCJ-02 point) is up to ~5 m off; here
    it is only the starting point of a fixed-point iteration that runs until
    the last correction is below ``tolerance_deg`` (default 1e-9 degrees,
    about 0.1 mm) or ``max_iter`` steps have run.  Each step shrinks the error
    by a factor of ~150 or more, so the remaining error is far below the
    tolerance: ``wgs84_to_gcj02(*gcj02_to_wgs84(g))`` reproduces ``g`` to
    micrometres anywhere in China.  Positions whose WGS-84 solution lies
    outside the China rectangle are returned unchanged.
    """
    _check_iteration(tolerance_deg, max_iter)
    return _masked_inverse(lon, lat, lambda x, y: _gcj_to_wgs_raw(x, y, tolerance_deg, max_iter))


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert GCJ-02 (lon, lat) degrees to BD-09 with Baidu's formula; identity outside China."""
    return _masked_forward(lon, lat, _gcj_to_bd_raw)


def bd09_to_gcj02(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
) -> tuple[Coord, Coord]:
    """Convert BD-09 (lon, lat) degrees to GCJ-02, exactly inverting :func:`gcj02_to_bd09`.

    Baidu's published inverse formula is only approximate (up to ~2e-6
    degrees, ~20 cm, off over China).  It is used as the starting point and
    refined by fixed-point iteration on :func:`gcj02_to_bd09` until the last
    correction is below ``tolerance_deg``.  Each step shrinks the error at
    least fiftyfold, so the residual ``|gcj02_to_bd09(result) - input|`` is
    below 0.022 * ``tolerance_deg``: ~2e-11 degrees (2 micrometres) at worst
    with the default, typically 1e-12 degrees.  Positions whose GCJ-02 solution lies outside the China rectangle
    are returned unchanged.
    """
    _check_iteration(tolerance_deg, max_iter)
    return _masked_inverse(lon, lat, lambda x, y: _bd_to_gcj_raw(x, y, tolerance_deg, max_iter))


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS-84 (lon, lat) degrees to BD-09 (via GCJ-02); identity outside China.

    The rectangle test is made once, on the WGS-84 position, so a point near the
    rectangle edge gets either both offsets or neither.
    """
    return _masked_forward(lon, lat, _wgs_to_bd_raw)


def bd09_to_wgs84(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG,
    max_iter: int = DEFAULT_MAX_ITER,
) -> tuple[Coord, Coord]:
    """Convert BD-09 (lon, lat) degrees to WGS-84, exactly inverting :func:`wgs84_to_bd09`.

    Both inverse steps iterate as in :func:`bd09_to_gcj02` and
    :func:`gcj02_to_wgs84`; the rectangle test is made on the WGS-84 result.
    """
    _check_iteration(tolerance_deg, max_iter)

    def inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gy = _bd_to_gcj_raw(x, y, tolerance_deg, max_iter)
        return _gcj_to_wgs_raw(gx, gy, tolerance_deg, max_iter)

    return _masked_inverse(lon, lat, inverse)


# --- CRS names and generic conversion ----------------------------------------


@functools.lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    # Building a Transformer means a proj.db lookup (milliseconds); requests
    # reuse a handful of CRSs, so cache them.  pyproj >= 3.1 Transformers are
    # thread-safe (one PROJ context per thread).
    return Transformer.from_crs(src, dst, always_xy=True)


def _bad_crs(text: object, why: str = "unknown CRS") -> Problem:
    return Problem(400, f"{why} {text!r}; accepted values: {ACCEPTED_CRS}", param="crs")


def parse_crs(text: str) -> str:
    """Normalise a CRS name to ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` or ``"EPSG:n"``.

    Case and surrounding blanks are ignored, as are ``-``, ``_`` and spaces
    inside the short names (``"WGS-84"``, ``"GCJ_02"``, ``"BD-09"``,
    ``"bd09ll"``, ``"CRS84"`` are accepted).  ``"epsg:3857"`` becomes
    ``"EPSG:3857"``; the code must be one pyproj can transform to WGS-84.
    Anything else raises :class:`~mapserver.errors.Problem` 400 with
    ``param="crs"`` and the list of accepted values.
    """
    if not isinstance(text, str) or not text.strip():
        raise _bad_crs(text, "missing or empty CRS")
    key = text.strip().lower()
    match = _EPSG_RE.match(key)
    if match:
        code = f"EPSG:{int(match.group(1))}"
        if code not in _IDENTITY_CRS:
            try:
                _transformer(code, "EPSG:4326")
            except (CRSError, ProjError) as exc:
                raise _bad_crs(text, "unknown or unusable EPSG code") from exc
        return code
    name = _ALIASES.get(re.sub(r"[\s_-]", "", key))
    if name is None:
        raise _bad_crs(text)
    return name


def is_identity_crs(crs: str) -> bool:
    """Whether coordinates in ``crs`` (any spelling :func:`parse_crs` accepts) are already WGS-84."""
    return parse_crs(crs) in _IDENTITY_CRS


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Coord, Coord]:
    """Convert coordinates in ``crs`` to WGS-84 (lon, lat) degrees.

    ``crs`` is any spelling :func:`parse_crs` accepts (an unknown one raises
    Problem 400).  For a projected ``EPSG:n`` the inputs are its x/y (easting,
    northing).  EPSG conversions that PROJ cannot compute (point outside the
    projection's domain) come back as inf, as pyproj reports them.
    """
    name = parse_crs(crs)
    if name in _IDENTITY_CRS:
        x, y, scalar = _prepare(lon, lat)
        return _finish(x, y, scalar)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _via_proj(lon, lat, name, "EPSG:4326")


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Coord, Coord]:
    """Convert WGS-84 (lon, lat) degrees to ``crs``; the inverse of :func:`to_wgs84`."""
    name = parse_crs(crs)
    if name in _IDENTITY_CRS:
        x, y, scalar = _prepare(lon, lat)
        return _finish(x, y, scalar)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if name == "bd09":
        return wgs84_to_bd09(lon, lat)
    return _via_proj(lon, lat, "EPSG:4326", name)


def _via_proj(lon: npt.ArrayLike, lat: npt.ArrayLike, src: str, dst: str) -> tuple[Coord, Coord]:
    x, y, scalar = _prepare(lon, lat)
    tx, ty = _transformer(src, dst).transform(x, y)
    return _finish(np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64), scalar)


def transform_geometry(geom: GeometryT, crs: str) -> GeometryT:
    """Return a shapely 2 geometry (or array of them) converted from ``crs`` to WGS-84.

    All vertices go through :func:`to_wgs84` in one vectorised call per
    geometry dimensionality.  Z values, if present, are kept unchanged.  For
    an identity CRS (wgs84, cgcs2000, EPSG:4326, EPSG:4490) the very same
    object is returned.  An unknown ``crs`` raises Problem 400.
    """
    name = parse_crs(crs)
    if name in _IDENTITY_CRS:
        return geom

    def convert(x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> tuple[Any, ...]:
        wx, wy = to_wgs84(x, y, name)
        return (wx, wy) if z is None else (wx, wy, z)

    # include_z=None keeps 2D geometries 2D and 3D ones 3D (the callback is
    # then called once per group, with or without z).
    return shapely.transform(geom, convert, include_z=None, interleaved=False)
