"""``mapserver patrol``: plan a patrol route and write it as GPX and GeoJSON; list and export saved plans.

Points are given in wgs84 (or ``--crs``); files are WGS-84. Files are written
whole or not at all (to a temporary file first, then renamed).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.errors import Problem
from mapserver.patrol.settings import MODES, WINDOWS


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a reader never sees half a file."""
    path = path.resolve()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_files(plan: dict[str, Any], gpx: Path | None, geojson: Path | None) -> None:
    from mapserver.patrol.gpx import plan_geojson, plan_gpx

    if gpx is not None:
        _write(gpx, plan_gpx(plan))
    if geojson is not None:
        _write(geojson, json.dumps(plan_geojson(plan), ensure_ascii=False).encode("utf-8"))


def _point(text: str, crs: str, what: str) -> dict[str, Any]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{what} must be LON,LAT, got {text!r}") from None
    return {"lon": lon, "lat": lat, "crs": crs}


@click.group("patrol")
def patrol_command() -> None:
    """Patrol routes for police liaisons (巡逻路线)."""


@patrol_command.command("plan")
@click.option("--liaison", help="police liaison whose grids make the area")
@click.option("--grid", "grids", multiple=True, help="grid code of the area (repeat for more)")
@click.option("--start", "start", metavar="LON,LAT", help="where the patrol starts and ends")
@click.option("--start-place", help="key place code (e.g. a police post) to start and end at")
@click.option("--crs", default="wgs84", show_default=True, help="CRS of --start and --must-visit")
@click.option("--budget-min", type=float, required=True, help="minutes the round may take")
@click.option("--mode", type=click.Choice(MODES), default="foot", show_default=True)
@click.option("--window", type=click.Choice(WINDOWS), default="day", show_default=True)
@click.option("--must-visit", multiple=True, metavar="LON,LAT", help="a stop the route must take (repeat)")
@click.option("--since", help="hotspot window start, ISO 8601 (default: patrol.hotspot_days before --until)")
@click.option("--until", help="hotspot window end, ISO 8601 (default: now)")
@click.option("--start-at", help="when the patrol sets off, ISO 8601 (default: now)")
@click.option("--gpx", type=click.Path(dir_okay=False, path_type=Path), help="write the route as GPX 1.1")
@click.option("--geojson", type=click.Path(dir_okay=False, path_type=Path), help="write the route as GeoJSON")
@click.option("--save/--no-save", default=True, show_default=True, help="keep the plan in the store")
@click.pass_context
@friendly_errors
def plan_command(ctx: click.Context, liaison: str | None, grids: tuple[str, ...], start: str | None,
                 start_place: str | None, crs: str, budget_min: float, mode: str, window: str,
                 must_visit: tuple[str, ...], since: str | None, until: str | None, start_at: str | None,
                 gpx: Path | None, geojson: Path | None, save: bool) -> None:
    """Plan a closed patrol route through the area's hot cells, blind spots, key places and overdue incidents."""
    from mapserver import audit
    from mapserver.derived import DerivedData
    from mapserver.gridindex import GRID_INDEX
    from mapserver.jurisdiction import WHOLE
    from mapserver.patrol.placement import plan_grids
    from mapserver.patrol.planner import PlanContext, plan_patrol
    from mapserver.patrol.request import parse_plan_request

    if (liaison is None) == (not grids):
        raise click.UsageError("give --liaison or --grid (not both)")
    if (start is None) == (start_place is None):
        raise click.UsageError("give --start LON,LAT or --start-place CODE")
    body: dict[str, Any] = {
        "area": {"liaison": liaison} if liaison else {"grids": list(grids)},
        "start": _point(start, crs, "--start") if start else {"place": start_place},
        "budget_min": budget_min, "mode": mode, "window": window,
        "must_visit": [_point(p, crs, "--must-visit") for p in must_visit],
        **{k: v for k, v in (("since", since), ("until", until), ("start_at", start_at)) if v is not None},
    }
    settings = context_settings(ctx)
    store = configured_store(settings)
    now = datetime.now(UTC)
    wanted = parse_plan_request(body, zone=settings.incidents.timezone, now=now,
                                hotspot_days=settings.patrol.hotspot_days)
    context = PlanContext(settings=settings.patrol, timezone=settings.incidents.timezone,
                          offline_after_s=settings.cameras.offline_after_s, now=now,
                          within=WHOLE)  # whoever runs the command line has the whole store
    derived = DerivedData(store)
    plan = plan_patrol(derived, wanted, context)
    if save:
        grids = plan_grids(plan, derived.get(GRID_INDEX, settings.lookup.max_snap_m))
        with store.transaction():
            row = store.patrols.save(plan, created_by=audit.cli_actor().name, created_at=now, grids=grids)
            audit.record(store, actor=audit.cli_actor(), action="patrol.plan", target=row.id,
                         detail={"liaison": row.liaison, "mode": row.mode, "window": row.time_window,
                                 "budget_min": row.budget_min, "stops": len(plan["stops"])})
        plan = row.plan
    _write_files(plan, gpx, geojson)
    share = plan["hotspot"]["share"]
    click.echo(f"{plan.get('id', 'not saved')}: {len(plan['stops'])} stops, {plan['length_m']:.0f} m, "
               f"{plan['duration_min']:.1f} of {plan['budget_min']:g} min, hotspot weight collected "
               f"{'—' if share is None else f'{share:.0%}'}, {len(plan['dropped'])} stop(s) dropped")
    store.close()


@patrol_command.command("list")
@click.option("--liaison", help="only this liaison's plans")
@click.option("--limit", type=click.IntRange(0, 1000), default=20, show_default=True)
@click.pass_context
@friendly_errors
def list_command(ctx: click.Context, liaison: str | None, limit: int) -> None:
    """Saved plans, newest first: id, time, liaison, mode, window, minutes and metres."""
    store = configured_store(context_settings(ctx))
    rows, total = store.patrols.list(liaison=liaison, limit=limit)
    for row in rows:
        click.echo(f"{row.id}\t{row.created_at.isoformat(timespec='seconds')}\t{row.liaison or '-'}\t{row.mode}\t"
                   f"{row.time_window}\t{row.duration_min:.1f}/{row.budget_min:g} min\t{row.length_m:.0f} m")
    click.echo(f"{len(rows)} of {total}", err=True)
    store.close()


@patrol_command.command("export")
@click.argument("plan_id")
@click.option("--gpx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--geojson", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@friendly_errors
def export_command(ctx: click.Context, plan_id: str, gpx: Path | None, geojson: Path | None) -> None:
    """Write a saved plan as GPX and/or GeoJSON."""
    if gpx is None and geojson is None:
        raise click.UsageError("give --gpx and/or --geojson")
    store = configured_store(context_settings(ctx))
    row = store.patrols.get(plan_id)
    if row is None or row.plan is None:
        raise Problem(404, f"no saved patrol plan with id '{plan_id}'")
    _write_files(row.plan, gpx, geojson)
    store.close()
