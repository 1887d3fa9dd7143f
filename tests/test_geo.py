"""Tests for mapserver.geo: GCJ-02 / BD-09 ciphers, CRS parsing and EPSG conversion.

References are independent of the code under test: coordinate pairs published by
established libraries and services (cited at each constant), a separate scalar
re-implementation of the public GCJ-02 formula (``_ref_wgs_to_gcj``), closed-form
projection formulas, and geodesic distances from ``pyproj.Geod``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod

from mapserver import geo
from mapserver.errors import Problem

GEOD = Geod(ellps="WGS84")

# Baidu's customary sample point (Tiananmen), used by most libraries' examples.
TIANANMEN = (116.404, 39.915)

# wandergis/coordtransform, README.md "result" block (npm package "coordtransform");
# the same numbers are asserted in athxx/coordtransform-rs src/lib.rs doc-tests.
# Each is the library's output for the input TIANANMEN.
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# These two are that library's *approximate* inverses (Baidu's closed-form
# bd09togcj02, and the one-step "subtract the offset" gcj02towgs84); our exact
# inverses differ from them by 4.5e-7 and 5.2e-7 degrees here (measured).
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)

# googollee/eviltransform, python/test.py TESTS (there as wgsLat, wgsLng, gcjLat,
# gcjLng; reordered here to (lon, lat) pairs): (WGS-84, GCJ-02).
EVIL_WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

# Alibaba Cloud address-purification API reference, "TransferCoord" response
# sample (help.aliyun.com/zh/address-purification/addrpapi/developer-reference/
# coordinate-system-conversion), rounded to 6 decimals by the service.
ALIYUN_GCJ02 = (120.026268, 30.279164)
ALIYUN_BD09 = (120.032768, 30.285238)
ALIYUN_WGS84 = (120.021519, 30.281543)  # the service's one-step approximate inverse

REF_TOL_DEG = 1e-6  # about 0.1 m; the published values carry 6-16 decimals

# Paris, New York, off Sydney, London, Null Island, Tokyo (east of the 137.8347 E edge).
OUTSIDE = [(2.35, 48.85), (-74.0, 40.7), (150.0, -33.0), (-0.1276, 51.5072), (0.0, 0.0), (139.69, 35.69)]

# --- independent reference ---------------------------------------------------


def _ref_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """Scalar GCJ-02 forward formula written from the published algorithm with ``math``."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    common = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    t_lat += common * 2.0 / 3.0
    t_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    t_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    t_lon += common * 2.0 / 3.0
    t_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    t_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = t_lat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = t_lon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance(s) on the WGS-84 ellipsoid."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray]:
    """50 x 50 points over China (lon 73..135, lat 18..53), kept if inside the GCJ-02 box."""
    lon, lat = np.meshgrid(np.linspace(73.0, 135.0, 50), np.linspace(18.0, 53.0, 50))
    lon, lat = lon.ravel(), lat.ravel()
    # Independent restatement of the customary rectangle.
    keep = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    assert keep.sum() == 2500
    return lon[keep], lat[keep]


def _close(actual, expected, tol=REF_TOL_DEG) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=tol)


# --- published reference pairs ------------------------------------------------


def test_reference_implementation_matches_published_pairs():
    _close(_ref_wgs_to_gcj(*TIANANMEN), CT_WGS84_TO_GCJ02, 1e-12)
    for wgs, gcj in EVIL_WGS_GCJ:
        _close(_ref_wgs_to_gcj(*wgs), gcj, 1e-12)


def test_wgs84_to_gcj02_published_pairs():
    _close(geo.wgs84_to_gcj02(*TIANANMEN), CT_WGS84_TO_GCJ02)
    for wgs, gcj in EVIL_WGS_GCJ:
        _close(geo.wgs84_to_gcj02(*wgs), gcj)


def test_gcj02_to_wgs84_published_pairs():
    # The exact inverse must land on the WGS-84 side of each published pair.
    for wgs, gcj in EVIL_WGS_GCJ:
        _close(geo.gcj02_to_wgs84(*gcj), wgs)
    # coordtransform's one-step approximation agrees to 5.2e-7 deg at Tiananmen...
    ours = geo.gcj02_to_wgs84(*TIANANMEN)
    _close(ours, CT_GCJ02_TO_WGS84)
    # ...but only ours maps back onto the input.
    _close(_ref_wgs_to_gcj(*ours), TIANANMEN, 1e-11)


def test_gcj02_to_bd09_published_pairs():
    _close(geo.gcj02_to_bd09(*TIANANMEN), CT_GCJ02_TO_BD09)
    _close(geo.gcj02_to_bd09(*ALIYUN_GCJ02), ALIYUN_BD09)


def test_bd09_to_gcj02_is_exact_and_near_published_approximation():
    ours = geo.bd09_to_gcj02(*TIANANMEN)
    _close(ours, CT_BD09_TO_GCJ02)  # Baidu's approximate formula: 4.5e-7 deg away (5 cm)
    _close(geo.gcj02_to_bd09(*ours), TIANANMEN, 1e-11)
    # The published approximation itself does not invert the forward formula as well.
    miss = np.abs(np.subtract(geo.gcj02_to_bd09(*CT_BD09_TO_GCJ02), TIANANMEN)).max()
    assert miss > 1e-7
    _close(geo.bd09_to_gcj02(*ALIYUN_BD09), ALIYUN_GCJ02)


def test_aliyun_wgs84_is_the_one_step_approximation():
    # Aliyun publishes g - offset(g); check that reading with the independent
    # reference, then that our exact inverse is within that method's metre-level error.
    g_lon, g_lat = ALIYUN_GCJ02
    f_lon, f_lat = _ref_wgs_to_gcj(g_lon, g_lat)
    _close((2 * g_lon - f_lon, 2 * g_lat - f_lat), ALIYUN_WGS84)
    ours = geo.gcj02_to_wgs84(*ALIYUN_GCJ02)
    assert _metres(*ours, *ALIYUN_WGS84) < 3.0  # measured 1.8 m
    _close(_ref_wgs_to_gcj(*ours), ALIYUN_GCJ02, 1e-11)


def test_wgs84_to_bd09_composes_gcj_then_bd():
    _close(geo.wgs84_to_bd09(*TIANANMEN), geo.gcj02_to_bd09(*CT_WGS84_TO_GCJ02), 1e-12)


# --- grid accuracy ---------------------------------------------------------------


def test_forward_matches_reference_over_grid(grid):
    lon, lat = grid
    got = np.array(geo.wgs84_to_gcj02(lon, lat))
    ref = np.array([_ref_wgs_to_gcj(x, y) for x, y in zip(lon, lat, strict=True)]).T
    _close(got, ref, 1e-12)


def test_round_trip_gcj02_over_grid(grid):
    # Measured worst: 5.1e-7 m.
    lon, lat = grid
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01


def test_round_trip_bd09_over_grid(grid):
    # Measured worst: 1.6e-6 m (WGS-84 -> BD-09 -> WGS-84), 1.8e-6 m (GCJ-02 -> BD-09 -> GCJ-02).
    lon, lat = grid
    back = geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01
    back = geo.bd09_to_gcj02(*geo.gcj02_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01


def test_gcj02_inverse_worst_error_5e_7_m_is_below_half_metre(grid):
    # Treat the grid as GCJ-02 positions, invert, and re-encrypt with the
    # independent reference: the miss is the inverse's error.  Measured worst
    # over the grid: 5.1e-7 m (the requirement is 0.5 m).
    lon, lat = grid
    w_lon, w_lat = geo.gcj02_to_wgs84(lon, lat)
    again = np.array([_ref_wgs_to_gcj(x, y) for x, y in zip(w_lon, w_lat, strict=True)]).T
    worst = _metres(lon, lat, again[0], again[1]).max()
    assert worst < 0.5
    assert worst < 1e-3  # what the iteration actually achieves
    # The grid is sensitive enough to catch the classic one-step inverse (worst ~4.8 m).
    one_step = np.array([_ref_wgs_to_gcj(x, y) for x, y in zip(lon, lat, strict=True)]).T
    approx_lon, approx_lat = 2 * lon - one_step[0], 2 * lat - one_step[1]
    again = np.array([_ref_wgs_to_gcj(x, y) for x, y in zip(approx_lon, approx_lat, strict=True)]).T
    assert _metres(lon, lat, again[0], again[1]).max() > 1.0


def test_bd09_inverse_residual_in_degrees(grid):
    # Documented: |gcj02_to_bd09(bd09_to_gcj02(b)) - b| < 0.022 * tolerance (measured 1.5e-11 deg).
    lon, lat = grid
    f = geo.gcj02_to_bd09(*geo.bd09_to_gcj02(lon, lat))
    assert np.abs(np.subtract(f, (lon, lat))).max() < 0.022 * geo.DEFAULT_TOLERANCE_DEG


def test_round_trip_just_inside_rectangle_edges():
    # Near the box edge the offset can carry a point across it; the inverse
    # decides on its own result, so these still round-trip.
    eps = 1e-3
    lon = np.r_[np.full(5, 72.004 + eps), np.full(5, 137.8347 - eps), np.linspace(80, 130, 5), np.linspace(80, 130, 5)]
    lat = np.r_[np.linspace(5, 50, 5), np.linspace(5, 50, 5), np.full(5, 0.8293 + eps), np.full(5, 55.8271 - eps)]
    assert not geo.out_of_china(lon, lat).any()
    g = geo.wgs84_to_gcj02(lon, lat)
    assert geo.out_of_china(*g).any()  # the case this test is about does occur
    assert _metres(lon, lat, *geo.gcj02_to_wgs84(*g)).max() < 0.01
    assert _metres(lon, lat, *geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lon, lat))).max() < 0.01


def test_offset_near_zhoukou_is_hundreds_of_metres():
    lon, lat = 114.65, 33.62
    d = _metres(lon, lat, *geo.wgs84_to_gcj02(lon, lat))
    assert 100.0 < d < 1000.0  # measured 531 m
    assert 100.0 < _metres(lon, lat, *geo.wgs84_to_bd09(lon, lat)) < 2000.0


# --- outside China, rectangle ---------------------------------------------------


def test_out_of_china_rectangle():
    assert geo.out_of_china(2.35, 48.85) is True
    assert geo.out_of_china(116.404, 39.915) is False
    # The box is crude: Seoul and Osaka lie inside it; Tokyo (139.69 E) is just east of it.
    assert geo.out_of_china(126.98, 37.57) is False
    assert geo.out_of_china(135.50, 34.69) is False
    assert geo.out_of_china(139.69, 35.69) is True
    # Bounds are inclusive.
    assert geo.out_of_china(72.004, 0.8293) is False
    assert geo.out_of_china(137.8347, 55.8271) is False
    assert geo.out_of_china(72.0039, 30.0) is True
    assert geo.out_of_china(110.0, 55.8272) is True
    assert geo.out_of_china(float("nan"), 30.0) is True
    np.testing.assert_array_equal(geo.out_of_china([2.35, 116.4], [48.85, 39.9]), [True, False])


CONVERSIONS = [
    geo.wgs84_to_gcj02,
    geo.gcj02_to_wgs84,
    geo.gcj02_to_bd09,
    geo.bd09_to_gcj02,
    geo.wgs84_to_bd09,
    geo.bd09_to_wgs84,
    lambda x, y: geo.to_wgs84(x, y, "gcj02"),
    lambda x, y: geo.to_wgs84(x, y, "bd09"),
    lambda x, y: geo.from_wgs84(x, y, "gcj02"),
    lambda x, y: geo.from_wgs84(x, y, "bd09"),
    lambda x, y: geo.to_wgs84(x, y, "cgcs2000"),
]


@pytest.mark.parametrize("convert", CONVERSIONS)
def test_points_outside_china_are_unchanged(convert):
    for lon, lat in OUTSIDE:
        assert convert(lon, lat) == (lon, lat)
    lon, lat = np.array(OUTSIDE).T
    out = convert(lon, lat)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)


# --- vectorisation, scalars, NaN -------------------------------------------------


@pytest.mark.parametrize("convert", CONVERSIONS[:6])
def test_array_and_scalar_agree(convert):
    pts = [(116.404, 39.915), (121.47, 31.23), (87.6, 43.8), (2.35, 48.85), (105.0, 35.0), (114.65, 33.62)]
    lon, lat = np.array(pts).T
    arr = convert(lon, lat)
    assert isinstance(arr[0], np.ndarray) and arr[0].shape == (len(pts),)
    for i, (x, y) in enumerate(pts):
        sx, sy = convert(x, y)
        assert type(sx) is float and type(sy) is float
        _close((arr[0][i], arr[1][i]), (sx, sy), 1e-12)
    # Shape is preserved, lists are accepted, and a scalar broadcasts.
    grid2d = convert(lon.reshape(2, 3), lat.reshape(2, 3))
    assert grid2d[0].shape == grid2d[1].shape == (2, 3)
    _close(grid2d[0].ravel(), arr[0], 1e-12)
    listed = convert(list(lon), list(lat))
    _close(listed, arr, 1e-12)
    bcast = convert(lon, 39.915)
    assert bcast[0].shape == bcast[1].shape == (len(pts),)


@pytest.mark.parametrize("convert", CONVERSIONS)
def test_nan_propagates(convert):
    nan = float("nan")
    lon, lat = convert(nan, 30.0)
    assert math.isnan(lon) and lat == 30.0
    lon, lat = convert(116.0, nan)
    assert lon == 116.0 and math.isnan(lat)
    # NaN in an array does not disturb the other points.
    lon, lat = convert(np.array([nan, 116.404]), np.array([39.915, 39.915]))
    assert math.isnan(lon[0])
    _close((lon[1], lat[1]), convert(116.404, 39.915), 1e-12)


def test_iteration_arguments_are_checked():
    with pytest.raises(ValueError):
        geo.gcj02_to_wgs84(116.0, 39.0, tolerance_deg=0.0)
    with pytest.raises(ValueError):
        geo.bd09_to_gcj02(116.0, 39.0, max_iter=0)
    # A looser tolerance still gives a usable (sub-metre) inverse.
    w = geo.gcj02_to_wgs84(*CT_WGS84_TO_GCJ02, tolerance_deg=1e-5, max_iter=2)
    assert _metres(*w, *TIANANMEN) < 0.5


# --- CRS names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wgs84", "wgs84"),
        (" WGS-84 ", "wgs84"),
        ("WGS_84", "wgs84"),
        ("CRS84", "wgs84"),
        ("CGCS2000", "cgcs2000"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("BD09", "bd09"),
        ("bd-09", "bd09"),
        ("bd09ll", "bd09"),
        ("epsg:4326", "EPSG:4326"),
        ("EPSG:4490", "EPSG:4490"),
        ("Epsg:3857", "EPSG:3857"),
        ("EPSG:4547", "EPSG:4547"),
    ],
)
def test_parse_crs_normalises(text, expected):
    assert geo.parse_crs(text) == expected


@pytest.mark.parametrize("text", ["foo", "", "  ", "gcj03", "EPSG:999999", "EPSG:abc", "EPSG:", "4326", None])
def test_parse_crs_rejects_unknown_with_400(text):
    with pytest.raises(Problem) as info:
        geo.parse_crs(text)
    problem = info.value
    assert problem.status == 400
    assert problem.param == "crs"
    for accepted in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:"):
        assert accepted in problem.detail


def test_conversions_reject_unknown_crs():
    for call in (
        lambda: geo.to_wgs84(1.0, 2.0, "mars-2"),
        lambda: geo.from_wgs84(1.0, 2.0, "EPSG:999999"),
        lambda: geo.transform_geometry(shapely.Point(1, 2), "nope"),
    ):
        with pytest.raises(Problem) as info:
            call()
        assert info.value.status == 400 and info.value.param == "crs"


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000", "EPSG:4326", "epsg:4490"])
def test_identity_crs(crs):
    assert geo.is_identity_crs(crs)
    assert geo.to_wgs84(116.404, 39.915, crs) == TIANANMEN
    assert geo.from_wgs84(116.404, 39.915, crs) == TIANANMEN


def test_named_crs_dispatch():
    _close(geo.from_wgs84(*TIANANMEN, "GCJ-02"), CT_WGS84_TO_GCJ02, 1e-12)
    _close(geo.to_wgs84(*CT_WGS84_TO_GCJ02, "gcj02"), TIANANMEN, 1e-10)
    bd = geo.from_wgs84(*TIANANMEN, "bd09")
    _close(geo.to_wgs84(*bd, "BD09"), TIANANMEN, 1e-10)
    assert not geo.is_identity_crs("gcj02")


# --- EPSG through pyproj ---------------------------------------------------------


def test_epsg_3857_matches_spherical_mercator_and_round_trips():
    r = 6378137.0
    lon = np.array([116.404, 121.47, 87.6, -74.0])
    lat = np.array([39.915, 31.23, 43.8, 40.7])
    x, y = geo.from_wgs84(lon, lat, "EPSG:3857")
    _close(x, r * np.radians(lon), 1e-6)
    _close(y, r * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)), 1e-6)
    back = geo.to_wgs84(x, y, "epsg:3857")
    _close(back, (lon, lat), 1e-9)


def _grs80_meridian_arc(lat_deg: float) -> float:
    """Equator-to-latitude meridian arc on GRS80/CGCS2000 by Simpson's rule (independent of PROJ)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    phi = np.linspace(0.0, math.radians(lat_deg), 2001)
    m = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    h = phi[1] - phi[0]
    return float(h / 3 * (m[0] + m[-1] + 4 * m[1:-1:2].sum() + 2 * m[2:-1:2].sum()))


def test_epsg_4547_gauss_kruger_cm_114():
    # On the central meridian x is the false easting and y the meridian arc.
    x, y = geo.from_wgs84(114.0, 30.0, "EPSG:4547")
    assert x == pytest.approx(500000.0, abs=1e-6)
    assert y == pytest.approx(_grs80_meridian_arc(30.0), abs=1e-3)
    _close(geo.to_wgs84(500000.0, y, "EPSG:4547"), (114.0, 30.0), 1e-9)
    # Round trip a few places in the zone (Wuhan, Zhoukou, Guangzhou).
    lon = np.array([114.30, 114.65, 113.26])
    lat = np.array([30.59, 33.62, 23.13])
    ex, ny = geo.from_wgs84(lon, lat, "EPSG:4547")
    assert (np.abs(ex - 500000.0) < 100000.0).all()  # within ~1 degree of the CM
    _close(geo.to_wgs84(ex, ny, "EPSG:4547"), (lon, lat), 1e-9)


def test_epsg_scalar_and_nan():
    x, y = geo.from_wgs84(116.404, 39.915, "EPSG:3857")
    assert type(x) is float and type(y) is float
    lon, lat = geo.to_wgs84(np.array([np.nan, x]), np.array([y, y]), "EPSG:3857")
    assert math.isnan(lon[0])
    _close((lon[1], lat[1]), TIANANMEN, 1e-9)


# --- geometries ------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["wgs84", "CGCS2000", "epsg:4326", "EPSG:4490"])
def test_transform_geometry_identity_returns_same_object(crs):
    geom = shapely.Polygon([(116.0, 39.0), (117.0, 39.0), (117.0, 40.0), (116.0, 39.0)])
    assert geo.transform_geometry(geom, crs) is geom


def test_transform_geometry_gcj02_polygon_vertexwise():
    geom = shapely.Polygon(
        [(116.0, 39.0), (117.0, 39.0), (117.0, 40.0), (116.0, 40.0)],
        holes=[[(116.4, 39.4), (116.6, 39.4), (116.6, 39.6)]],
    )
    out = geo.transform_geometry(geom, "gcj02")
    assert out.geom_type == "Polygon" and len(out.interiors) == 1
    src = shapely.get_coordinates(geom)
    expected = np.column_stack(geo.gcj02_to_wgs84(src[:, 0], src[:, 1]))
    _close(shapely.get_coordinates(out), expected, 1e-12)


def test_transform_geometry_keeps_z_and_handles_arrays():
    p3 = shapely.Point(CT_WGS84_TO_GCJ02[0], CT_WGS84_TO_GCJ02[1], 42.0)
    out = geo.transform_geometry(p3, "gcj02")
    assert out.has_z and out.z == 42.0
    _close((out.x, out.y), TIANANMEN, 1e-10)
    x, y = geo.from_wgs84(*TIANANMEN, "EPSG:4547")
    geoms = np.array([shapely.Point(x, y), shapely.LineString([(x, y), (x + 1000.0, y)])])
    out = geo.transform_geometry(geoms, "EPSG:4547")
    assert out.shape == (2,)
    _close((out[0].x, out[0].y), TIANANMEN, 1e-9)
    assert not out[1].has_z


def test_transform_geometry_outside_china_unchanged():
    geom = shapely.LineString(OUTSIDE[:3])
    out = geo.transform_geometry(geom, "bd09")
    assert out.equals_exact(geom, tolerance=0.0)
