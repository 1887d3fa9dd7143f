"""The weekly bulletin as one self-contained HTML page: inline style sheet, inline SVG maps and charts, no script,
no link to anything outside the page.

Every text that comes from the data (grid names, descriptions, addresses,
category labels) is escaped with :func:`html.escape` where it is written.
Times are shown in the bulletin's local zone; rates as percentages; counts as
whole incidents, the four-week mean to one decimal.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.cells import hexagon
from mapserver.bulletin import words
from mapserver.bulletin.charts import Series, bar_chart, line_chart
from mapserver.bulletin.figures import Figures, Row
from mapserver.bulletin.svg import Area, Frame, Marker, map_svg
from mapserver.bulletin.trends import HotspotChanges

MAP_WIDTH_PX = 900
DESCRIPTION_CHARS = 80  # the bulletin lists items; the full text is in the incident's record
BLIND_LISTED = 10


@dataclass(frozen=True)
class Page:
    """What the page is about besides the figures."""

    lang: str
    zone: str
    generated_at: datetime
    categories: dict[str, str]  # configured code → label
    district: BaseGeometry | None  # WGS-84; None when no street grids are stored
    area_name: str | None = None  # a jurisdiction's grid when the page covers only that, named in the header


def esc(value: object) -> str:
    """Text for HTML, quotes included."""
    return html.escape(str(value), quote=True)


def _local(page: Page, at: datetime) -> str:
    return at.astimezone(ZoneInfo(page.zone)).strftime("%Y-%m-%d %H:%M")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _signed(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}"


def _change_cells(row: Row) -> str:
    css = "up" if row.change > 0 else "down" if row.change < 0 else ""
    share = "—" if row.change_share is None else f"{row.change_share * 100:+.1f}%"
    return (f'<td>{row.mean_before:.1f}</td><td class="{css}">{_signed(row.change)}</td>'
            f'<td class="{css}">{share}</td>')


def _week_heads(page: Page, figures: Figures) -> str:
    return "".join(f"<th>{esc(words.text(page.lang, 'week_short', number=w.number))}</th>" for w in figures.weeks)


def _comparison_table(page: Page, figures: Figures, table_id: str, first: str, rows: list[Row],
                      labels: dict[str, str], footer: Row | None = None) -> str:
    t = words.text
    head = (f"<tr><th>{esc(first)}</th>{_week_heads(page, figures)}<th>{esc(t(page.lang, 'mean_before'))}</th>"
            f"<th>{esc(t(page.lang, 'change'))}</th><th>{esc(t(page.lang, 'change_share'))}</th></tr>")
    body = "".join(f'<tr data-code="{esc(r.code)}"><td class="text">{esc(labels.get(r.code, r.name))}</td>'
                   + "".join(f"<td>{n}</td>" for n in r.counts) + _change_cells(r) + "</tr>" for r in rows)
    foot = ""
    if footer is not None:
        foot = (f'<tfoot><tr data-code="{esc(footer.code)}"><td>{esc(footer.name)}</td>'
                + "".join(f"<td>{n}</td>" for n in footer.counts) + _change_cells(footer) + "</tr></tfoot>")
    return f'<table id="{table_id}"><thead>{head}</thead><tbody>{body}</tbody>{foot}</table>'


def _summary(page: Page, figures: Figures) -> str:
    t, lang = words.text, page.lang
    tiles = (("kpi-total", "reported", str(figures.totals[-1])),
             ("kpi-closure", "closure_rate", _share(figures.closure_rates[-1])),
             ("kpi-on-time", "on_time_rate", _share(figures.on_time_rates[-1])),
             ("kpi-overdue", "overdue", str(figures.overdue_total)))
    kpis = '<div class="kpis">' + "".join(f'<div class="kpi">{esc(t(lang, key))}<b id="{tile}">{value}</b></div>'
                                          for tile, key, value in tiles) + "</div>"
    rows = [("total", t(lang, "reported"), [str(n) for n in figures.totals]),
            ("closure_rate", t(lang, "closure_rate"), [_share(v) for v in figures.closure_rates]),
            ("on_time_rate", t(lang, "on_time_rate"), [_share(v) for v in figures.on_time_rates])]
    body = "".join(f'<tr data-code="{code}"><td>{esc(name)}</td>' + "".join(f"<td>{v}</td>" for v in values)
                   + "</tr>" for code, name, values in rows)
    table = (f'<table id="summary"><thead><tr><th></th>{_week_heads(page, figures)}</tr></thead>'
             f"<tbody>{body}</tbody></table>")
    return f'<section id="overview"><h2>{esc(t(lang, "summary"))}</h2>{kpis}{table}</section>'


def _categories(page: Page, figures: Figures) -> str:
    lang = page.lang
    labels = {r.code: words.category_label(lang, r.code, page.categories) for r in figures.by_category}
    total = Row("total", words.text(lang, "total"), figures.totals)
    table = _comparison_table(page, figures, "by-category", words.text(lang, "category"), figures.by_category,
                              labels, total)
    x = [words.text(lang, "week_short", number=w.number) for w in figures.weeks]
    chart = line_chart(x, [Series(labels[r.code], r.counts) for r in figures.by_category],
                       title=words.text(lang, "chart_categories"))
    return (f'<section id="categories"><h2>{esc(words.text(lang, "by_category"))}</h2>{table}'
            f'<p class="note">{esc(words.text(lang, "chart_categories"))}</p>{chart}</section>')


def _streets(page: Page, figures: Figures) -> str:
    lang = page.lang
    rows = list(figures.by_street)
    assigned = [sum(r.counts[k] for r in rows) for k in range(len(figures.weeks))]
    outside = [total - inside for total, inside in zip(figures.totals, assigned, strict=True)]
    if any(outside):  # incidents with no street in their grid chain: say so, so the column adds up
        rows.append(Row("unassigned", words.text(lang, "unassigned"), outside))
    table = _comparison_table(page, figures, "by-street", words.text(lang, "street"), rows, {},
                              Row("total", words.text(lang, "total"), figures.totals))
    shown = figures.by_street
    chart = bar_chart([r.name for r in shown], [r.current for r in shown], [r.mean_before for r in shown],
                      title=words.text(lang, "chart_streets")) if shown else ""
    return (f'<section id="streets"><h2>{esc(words.text(lang, "by_street"))}</h2>{table}'
            f'<p class="note">{esc(words.text(lang, "chart_streets"))}</p>{chart}</section>')


def _map(page: Page, figures: Figures, changes: HotspotChanges) -> str:
    lang = page.lang
    if page.district is None:
        return ""
    frame = Frame.fit(page.district, MAP_WIDTH_PX)
    areas = [Area(page.district, "district")]
    areas += [Area(g.geom, "street", label=g.name, title=g.name) for g in figures.streets]
    for kind, cells in (("new", changes.new), ("intensifying", changes.intensifying)):
        areas += [Area(shape(hexagon(c.id)), f"hot-{kind}", title=words.text(lang, kind)) for c in cells]
    blind = figures.blind["blind_spots"][:BLIND_LISTED]
    markers = [Marker(b["lon"], b["lat"], "blind", i) for i, b in enumerate(blind, start=1)]
    svg = map_svg(frame, areas, markers, title=words.text(lang, "map_title"))
    # Swatches by class, not style attributes: the page's policy allows its one style sheet and nothing else.
    legend = "".join(f'<li><span class="swatch {css}"></span>{esc(words.text(lang, key))}</li>'
                     for css, key in (("sw-street", "legend_street"), ("sw-new", "legend_new"),
                                      ("sw-intensifying", "legend_intensifying"), ("sw-blind", "legend_blind")))
    return (f'<section id="map"><h2>{esc(words.text(lang, "map"))}</h2>{svg}'
            f'<ul class="legend-list">{legend}</ul></section>')


def _hot_grids(page: Page, figures: Figures) -> str:
    lang = page.lang
    title = words.text(lang, "hot_grids", n=len(figures.hot_grids) or "",
                       level=words.level_name(lang, figures.hot_level))
    if not figures.hot_grids:
        return f'<section id="hot-grids-section"><h2>{esc(title)}</h2><p>{esc(words.text(lang, "none"))}</p></section>'
    table = _comparison_table(page, figures, "hot-grids", words.text(lang, "grid"), figures.hot_grids, {})
    return f'<section id="hot-grids-section"><h2>{esc(title)}</h2>{table}</section>'


def _hotspots(page: Page, figures: Figures, changes: HotspotChanges) -> str:
    lang, t = page.lang, words.text
    heads = "".join(f"<th>{esc(t(lang, k))}</th>" for k in ("kind", "cell", "z", "weekly_counts", "position"))
    rows = []
    for kind, cells in (("new", changes.new), ("intensifying", changes.intensifying)):
        for c in cells:
            rows.append(f'<tr data-code="{esc(c.id)}" data-kind="{kind}"><td class="text">{esc(t(lang, kind))}</td>'
                        f'<td>{esc(c.id)}</td><td>{c.z_final:.2f}</td>'
                        f'<td>{" / ".join(str(n) for n in c.counts)}</td>'
                        f'<td>{c.lon:.5f}, {c.lat:.5f}</td></tr>')
    body = (f'<table id="hotspots"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>' if rows
            else f"<p>{esc(t(lang, 'none'))}</p>")
    counts = "、".join(f"{words.trend_word(lang, k)} {n}" for k, n in changes.counts.items() if k != "none" and n) \
        if lang == "zh" else ", ".join(f"{words.trend_word(lang, k)} {n}" for k, n in changes.counts.items()
                                       if k != "none" and n)
    note = t(lang, "hotspot_note", res=changes.resolution, confidence=changes.confidence)
    summary = t(lang, "hotspot_counts", counts=counts or t(lang, "none"))
    return (f'<section id="hotspot-changes"><h2>{esc(t(lang, "hotspots"))}</h2>{body}'
            f'<p class="note">{esc(summary)}</p><p class="note">{esc(note)}</p></section>')


def _blind_spots(page: Page, figures: Figures) -> str:
    lang, t, blind = page.lang, words.text, figures.blind
    line = t(lang, "coverage", basis=t(lang, f"basis_{blind['basis']}"), cells=blind["cells"],
             covered=blind["covered"], share=_share(blind["share"]), online=blind["cameras_online"])
    spots = blind["blind_spots"][:BLIND_LISTED]
    heads = "".join(f"<th>{esc(t(lang, k))}</th>" for k in ("rank", "cell", "count", "z", "position"))
    rows = "".join(f'<tr data-code="{esc(b["id"])}"><td>{i}</td><td>{esc(b["id"])}</td><td>{b["count"]}</td>'
                   f'<td>{b["z"]:.2f}</td><td>{b["lon"]:.5f}, {b["lat"]:.5f}</td></tr>'
                   for i, b in enumerate(spots, start=1))
    table = (f'<table id="blind-spots"><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>' if spots
             else f"<p>{esc(t(lang, 'none'))}</p>")
    note = t(lang, "blind_note", res=blind["resolution"])
    return (f'<section id="blind"><h2>{esc(t(lang, "blind_spots"))}</h2><p id="coverage-line">{esc(line)}</p>'
            f'{table}<p class="note">{esc(note)}</p></section>')


def _late(lang: str, seconds: float) -> str:
    hours = int(seconds // 3600)
    return words.text(lang, "hours", n=hours) if hours < 48 else words.text(lang, "days", n=hours // 24)


def _overdue(page: Page, figures: Figures) -> str:
    lang, t = page.lang, words.text
    names = {g.code: g.name for g in figures.streets}
    line = t(lang, "overdue_total", at=_local(page, figures.as_of), n=figures.overdue_total)
    parts = [f'<p id="overdue-line">{esc(line)}</p>']
    if figures.overdue_by_street:
        ranked = sorted(figures.overdue_by_street.items(), key=lambda kv: (-kv[1], kv[0]))
        rows = "".join(f'<tr data-code="{esc(code)}"><td class="text">{esc(names.get(code, code))}</td>'
                       f"<td>{n}</td></tr>" for code, n in ranked)
        parts.append(f'<table id="overdue-streets"><thead><tr><th>{esc(t(lang, "street"))}</th>'
                     f'<th>{esc(t(lang, "count"))}</th></tr></thead><tbody>{rows}</tbody></table>')
    items = figures.overdue_items
    if items:
        heads = "".join(f"<th>{esc(t(lang, k))}</th>" for k in ("id", "category", "severity", "street",
                                                                 "reported_at", "due_at", "late", "description"))
        rows = "".join(
            f'<tr data-code="{esc(i.id)}"><td class="text">{esc(i.id)}</td>'
            f'<td class="text">{esc(words.category_label(lang, i.category, page.categories))}</td>'
            f'<td class="text">{esc(words.enum_label(lang, "severity", i.severity))}</td>'
            f'<td class="text">{esc(names.get(i.grid_l1 or "", i.grid_l1 or ""))}</td>'
            f"<td>{_local(page, i.reported_at)}</td><td>{_local(page, i.due_at) if i.due_at else ''}</td>"
            f"<td>{esc(_late(lang, (figures.as_of - i.due_at).total_seconds())) if i.due_at else ''}</td>"
            f'<td class="text">{esc(i.description[:DESCRIPTION_CHARS])}</td></tr>' for i in items)
        parts.append(f"<p>{esc(t(lang, 'overdue_listed', shown=len(items)))}</p>"
                     f'<table id="overdue-items"><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>')
    return f'<section id="overdue"><h2>{esc(t(lang, "overdue"))}</h2>{"".join(parts)}</section>'


def style_sheet() -> str:
    """The page's CSS (read from the package, not at import)."""
    return resources.files("mapserver.bulletin").joinpath("style.css").read_text(encoding="utf-8")


def render(figures: Figures, changes: HotspotChanges, page: Page) -> str:
    """The whole bulletin as an HTML document."""
    lang, t, week = page.lang, words.text, figures.week
    title = f"{t(lang, 'title')} · {week.label}"
    running = figures.as_of < week.end
    subtitle = t(lang, "subtitle", year=week.year, number=week.number, monday=week.monday, sunday=week.sunday)
    generated = t(lang, "generated", at=_local(page, page.generated_at), zone=page.zone)
    area = f'<div id="area">{esc(page.area_name)}</div>' if page.area_name else ""
    header = (f"<header><h1>{esc(t(lang, 'title'))}</h1>{area}<div>{esc(subtitle)}</div>"
              f'<div class="sub">{esc(generated)}</div>'
              + (f'<div class="warn">{esc(t(lang, "in_progress", at=_local(page, figures.as_of)))}</div>' if running
                 else "") + "</header>")
    sections = [_summary(page, figures), _categories(page, figures), _streets(page, figures),
                _map(page, figures, changes), _hot_grids(page, figures), _hotspots(page, figures, changes),
                _blind_spots(page, figures), _overdue(page, figures)]
    footer = f"<footer><p>{esc(t(lang, 'method', zone=page.zone))}</p></footer>"
    return (f'<!DOCTYPE html><html lang="{words.HTML_LANG[lang]}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
            f"<style>{style_sheet()}</style></head><body>{header}{''.join(sections)}{footer}</body></html>")
