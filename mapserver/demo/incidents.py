"""A year of reported events (事件) in a demo district, ending at a fixed time so it is reproducible.

Where: three quarters at residents' addresses (a few tens of metres off, in
:data:`~mapserver.demo.boundary.METRIC_CRS` metres), a quarter in the hotspot
clusters (:mod:`mapserver.demo.hotspots`); all inside the district, stored as
WGS-84 rounded to 7 decimals, with the building grid holding the point, its
chain of parent grids and its H3 cell. When: the year before ``as_of``, by the
hour, weighted by local time (UTC+8) of day (busy 8:00–18:00, quiet at night,
public-security reports later in the evening), day of week (fewer at weekends)
and season. What: eight categories (the mix depends on the place), severities
general/important/urgent about 80/17/3 %, Chinese descriptions (place, then the
issue), reporters by source (the grid's own worker for grid-worker reports).
The closed loop (status, dispatch and close times, deadlines, units) is
:mod:`mapserver.demo.loop`: 99.97 % closed, but the public's own reports (under 1 % of them) only
89.86 %, as published for 川汇 (the 周到办 app closed 443 of 493). Ids are UUIDs drawn from the seed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
import numpy as np
import shapely

from mapserver.demo.addresses import AddressBook
from mapserver.demo.boundary import metric_xy_to_lonlat, to_metric
from mapserver.demo.grids import Cell, GridTree
from mapserver.demo.hotspots import Hotspot
from mapserver.demo.loop import DEPARTMENTS, close_loop
from mapserver.demo.names import SURNAMES
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Incident

CATEGORIES = ("disputes", "public_security", "fire_hazard", "city_appearance", "roads_facilities", "environment",
              "petitions", "other")
MIX = {  # category shares, in CATEGORIES order
    "background": (0.16, 0.08, 0.06, 0.28, 0.14, 0.12, 0.06, 0.10),
    "market": (0.15, 0.10, 0.06, 0.45, 0.06, 0.12, 0.02, 0.04),
    "station": (0.12, 0.30, 0.03, 0.30, 0.12, 0.06, 0.02, 0.05),
    "school": (0.10, 0.25, 0.04, 0.20, 0.25, 0.08, 0.03, 0.05),
}
SEVERITIES = (("general", 0.80), ("important", 0.17), ("urgent", 0.03))
OPEN_SHARE = 0.0003  # 99.97 % closed, as published for 川汇区
SOURCES = (("grid_worker", 0.742), ("public_app", 0.008), ("hotline", 0.12), ("video_patrol", 0.10),
           ("department", 0.03))
PUBLIC_APP_UNRESOLVED = 50 / 493  # 周到办: 443 of 493 closed
HOTSPOT_SHARE = 0.25
JITTER_M = 25.0
HOUR_WEIGHTS = np.array([0.25, 0.15, 0.1, 0.1, 0.12, 0.25, 0.6, 1.2, 1.8, 2.0, 2.0, 1.7,
                         1.2, 1.3, 1.7, 1.9, 1.8, 1.6, 1.3, 1.2, 1.0, 0.8, 0.6, 0.4])
NIGHT = np.array([1.0 if h >= 19 or h < 4 else 0.0 for h in range(24)])
WEEKDAY_WEIGHTS = np.array([1.05, 1.0, 1.0, 1.0, 1.02, 0.8, 0.7])  # Monday … Sunday
LOCAL = timedelta(hours=8)
ISSUES = {  # what is reported, per category
    "disputes": ("邻里噪音纠纷", "物业费纠纷", "家庭矛盾纠纷", "宅基地边界纠纷", "租房押金纠纷", "停车位纠纷",
                 "拖欠工资纠纷"),
    "public_security": ("可疑人员徘徊", "电动车被盗", "酒后滋事", "门店被撬", "电信诈骗线索", "聚众赌博线索",
                        "打架斗殴"),
    "fire_hazard": ("楼道堆放杂物", "电动车楼道充电", "飞线充电", "消防通道被占用", "灭火器过期", "燃气管道老化"),
    "city_appearance": ("占道经营", "乱贴小广告", "垃圾堆放未清运", "违规设置户外广告", "店外经营", "乱搭乱建",
                        "渣土撒漏"),
    "roads_facilities": ("路灯不亮", "井盖缺失", "路面坑洼", "交通信号灯故障", "护栏损坏", "道路积水",
                         "共享单车乱停放"),
    "environment": ("焚烧垃圾", "污水外溢", "油烟扰民", "噪音扰民", "河道漂浮物", "工地扬尘", "秸秆焚烧"),
    "petitions": ("反映拖欠工资问题", "咨询低保政策", "反映物业服务问题", "反映拆迁补偿问题", "咨询医保报销",
                  "反映供暖问题"),
    "other": ("流浪犬伤人隐患", "独居老人求助", "走失人员求助", "树木倒伏隐患", "空置房屋安全隐患"),
}


@dataclass(frozen=True)
class Located:
    """Where the incidents are: WGS-84 lon/lat, mix, place label and home address per incident."""

    lonlat: np.ndarray
    mix: np.ndarray  # index into list(MIX)
    label: list[str | None]  # a hotspot's place name, or None for addresses
    home: np.ndarray  # index of the address it is near, -1 for hotspot incidents


@dataclass(frozen=True)
class Context:
    """What incident records refer to: the district, its addresses and grid workers, settings, end time."""

    tree: GridTree
    book: AddressBook
    workers: dict[str, str]  # building grid code → its grid worker's name
    settings: IncidentSettings
    as_of: datetime


def build_incidents(context: Context, hotspots: list[Hotspot], rng: np.random.Generator) -> list[Incident]:
    """``spec.incidents`` incidents for the year before ``as_of``, oldest first."""
    n = context.tree.spec.incidents
    where = _locate(context.tree, context.book, hotspots, rng, n)
    cells = _base_cells(context.tree, where.lonlat)
    category = _categories(where.mix, rng)
    seconds = _times(category, rng, n, context.as_of)
    order = np.lexsort((np.arange(n), seconds))  # oldest first; stable on ties
    return _records(context, where, cells[order], category[order], seconds[order], order, rng)


def _locate(tree: GridTree, book: AddressBook, hotspots: list[Hotspot], rng: np.random.Generator,
            n: int) -> Located:
    hot = round(n * HOTSPOT_SHARE) if hotspots else 0
    home = rng.integers(0, len(book.records), size=n - hot)
    anchors = to_metric(shapely.points(book.lonlat[home]))
    xy = shapely.get_coordinates(anchors) + rng.normal(0, JITTER_M, size=(n - hot, 2))
    pick = rng.choice(len(hotspots), size=hot, p=[h.weight for h in hotspots]) if hot else np.zeros(0, int)
    centres = np.array([[h.centre.x, h.centre.y] for h in hotspots]).reshape(-1, 2)
    sigmas = np.array([h.sigma_m for h in hotspots])
    hot_xy = centres[pick] + rng.normal(0, 1, size=(hot, 2)) * sigmas[pick][:, None]
    lonlat = metric_xy_to_lonlat(*np.vstack([xy, hot_xy]).T)
    fallback = np.vstack([book.lonlat[home], metric_xy_to_lonlat(*centres[pick].T)])
    outside = ~shapely.contains_xy(tree.boundary, lonlat[:, 0], lonlat[:, 1])
    lonlat[outside] = fallback[outside]  # addresses and hotspot centres are inside the district
    kinds = list(MIX)
    mix = np.concatenate([np.zeros(n - hot, int), np.array([kinds.index(hotspots[i].place.place.kind)
                                                             for i in pick], dtype=int)])
    labels: list[str | None] = [None] * (n - hot) + [hotspots[i].place.place.name for i in pick]
    return Located(lonlat=lonlat, mix=mix, label=labels, home=np.concatenate([home, np.full(hot, -1)]))


def _base_cells(tree: GridTree, lonlat: np.ndarray) -> np.ndarray:
    """Index (into ``levels[3]``) of the building grid covering each point.

    A point on an edge shared by several grids gets the smallest code, the grid
    index's rule, so the server would assign a new report there to the same grid.
    """
    cells = tree.levels[3]
    index = shapely.STRtree(np.asarray([c.wgs for c in cells], dtype=object))
    point_idx, grid_idx = index.query(shapely.points(lonlat), predicate="intersects")
    rank = np.argsort(np.argsort([c.code for c in cells], kind="stable"), kind="stable")
    out = np.full(len(lonlat), -1, dtype=np.int64)
    order = np.lexsort((-rank[grid_idx], point_idx))  # the last write per point is its smallest code
    out[point_idx[order]] = grid_idx[order]
    for i in np.flatnonzero(out < 0):
        out[i] = int(index.nearest(shapely.Point(lonlat[i])))
    return out


def _categories(mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(len(mix), dtype=int)
    for m, shares in enumerate(MIX.values()):
        chosen = mix == m
        out[chosen] = rng.choice(len(CATEGORIES), size=int(chosen.sum()), p=np.asarray(shares) / sum(shares))
    return out


def _times(category: np.ndarray, rng: np.random.Generator, n: int, as_of: datetime) -> np.ndarray:
    """Seconds after the window start (``as_of`` − 365 days) for each incident."""
    hours = np.arange(365 * 24)
    start_local = as_of - timedelta(days=365) + LOCAL
    local_hour = (hours + start_local.hour) % 24
    weekday = ((hours + start_local.hour) // 24 + start_local.weekday()) % 7
    season = 1 + 0.12 * np.sin(2 * np.pi * (hours / 24 + start_local.timetuple().tm_yday - 100) / 365)
    base = WEEKDAY_WEIGHTS[weekday] * season
    out = np.zeros(n, dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        chosen = category == c
        # Public-security reports come later in the evening and at night.
        night = 1.5 if name == "public_security" else 0.0
        weights = base * HOUR_WEIGHTS[local_hour] * (1 + night * NIGHT[local_hour])
        slots = rng.choice(len(hours), size=int(chosen.sum()), p=weights / weights.sum())
        out[chosen] = slots * 3600 + rng.integers(0, 3600, size=len(slots))
    return out


def _records(context: Context, where: Located, cells: np.ndarray, category: np.ndarray, seconds: np.ndarray,
             order: np.ndarray, rng: np.random.Generator) -> list[Incident]:
    """Incident records in time order (``order`` maps that order back to the located points)."""
    tree, n = context.tree, len(order)
    start = context.as_of - timedelta(days=365)
    severity = rng.choice(len(SEVERITIES), size=n, p=[p for _, p in SEVERITIES])
    source = rng.choice(len(SOURCES), size=n, p=[p for _, p in SOURCES])
    names = [CATEGORIES[c] for c in category.tolist()]
    chains = [_chain(tree, cell) for cell in tree.levels[3]]
    public = source == [name for name, _ in SOURCES].index("public_app")
    loop = close_loop(start.timestamp() + seconds.astype(float), names, severity,
                      [f"{chains[c][0][1]}办事处" for c in cells.tolist()], open_count=round(n * OPEN_SHARE),
                      unresolved=public & (rng.random(n) < PUBLIC_APP_UNRESOLVED),
                      settings=context.settings, as_of=context.as_of, rng=rng)
    texts = _descriptions(tree, where, cells, names, severity, order, rng)
    reporters = _reporters(context, cells, source, names, rng)
    ids = _uuids(rng, n)
    lonlat = where.lonlat[order]
    points = shapely.points(lonlat).tolist()
    resolution = context.settings.h3_resolution
    out = []
    for k in range(n):
        chain = chains[cells[k]]
        home = int(where.home[order[k]])
        label = where.label[order[k]]
        out.append(Incident(
            id=ids[k], geom=points[k], reported_at=start + timedelta(seconds=int(seconds[k])), category=names[k],
            severity=SEVERITIES[severity[k]][0], status=loop.status[k], grid_code=chain[3][0],
            description=texts[k], source=SOURCES[source[k]][0],
            address=context.book.records[home].text if home >= 0 else (label or ""), reporter=reporters[k],
            unit=loop.unit[k], grid_l1=chain[0][0], grid_l2=chain[1][0], grid_l3=chain[2][0], grid_l4=chain[3][0],
            h3_cell=h3.latlng_to_cell(float(lonlat[k, 1]), float(lonlat[k, 0]), resolution),
            due_at=loop.due_at[k], warn_at=loop.warn_at[k], dispatched_at=loop.dispatched_at[k],
            closed_at=loop.closed_at[k], escalation=loop.escalation[k], version=loop.version[k]))
    return out


def _chain(tree: GridTree, cell: Cell) -> list[tuple[str, str]]:
    """(code, name) of a building grid's street, community, compound and itself."""
    return [(up.code, up.name) for up in (tree.ancestor(cell, level) for level in (1, 2, 3, 4))]


def _descriptions(tree: GridTree, where: Located, cells: np.ndarray, names: list[str], severity: np.ndarray,
                  order: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Place (compound or natural village, or the hotspot's place) then the issue; urgent ones flagged."""
    places = [tree.levels[2][c.parent].name for c in tree.levels[3]]
    pick = rng.integers(0, 1_000_000, size=len(names)).tolist()
    out = []
    for k, name in enumerate(names):
        problem = ISSUES[name][pick[k] % len(ISSUES[name])]
        label = where.label[order[k]]
        text = f"{label}附近{problem}" if label else f"{places[cells[k]]}{problem}"
        out.append(("【紧急】" if severity[k] == 2 else "") + text)
    return out


def _reporters(context: Context, cells: np.ndarray, source: np.ndarray, names: list[str],
               rng: np.random.Generator) -> list[str]:
    """Who reported: the grid's worker, a resident (王先生, 李女士), the video patrol or a department."""
    codes = [c.code for c in context.tree.levels[3]]
    surname = rng.integers(0, 40, size=len(names)).tolist()
    female = (rng.random(len(names)) < 0.5).tolist()
    out = []
    for k, s in enumerate(source.tolist()):
        kind = SOURCES[s][0]
        if kind == "grid_worker":
            out.append(context.workers.get(codes[cells[k]], "网格员"))
        elif kind in ("public_app", "hotline"):
            out.append(SURNAMES[surname[k]] + ("女士" if female[k] else "先生"))
        elif kind == "video_patrol":
            out.append("视频巡查员")
        else:
            out.append(DEPARTMENTS.get(names[k], "区综治中心"))
    return out


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` version-4 UUIDs whose random bits come from ``rng`` (so the seed fixes them)."""
    bits = rng.integers(0, 2**64, size=(n, 2), dtype=np.uint64).tolist()
    return [str(uuid.UUID(int=(hi << 64) | lo, version=4)) for hi, lo in bits]
