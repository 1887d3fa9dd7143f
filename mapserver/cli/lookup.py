"""``mapserver lookup``: the responsible grid and people for a point, an address, or a CSV of points."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mapserver.addressing import AddressMatcher, best_address
from mapserver.bulk import assignment_csv, read_csv_points
from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.gridindex import GridIndex


@click.command("lookup")
@click.option("--lon", type=float, help="longitude (with --lat)")
@click.option("--lat", type=float, help="latitude (with --lon)")
@click.option("--crs", default="wgs84", show_default=True, help="wgs84, cgcs2000, gcj02, bd09 or EPSG:n")
@click.option("--address", help="free-text address, matched against the standard addresses")
@click.option("--bulk", "bulk_in", type=click.Path(exists=True, dir_okay=False), help="CSV with lon,lat[,id]")
@click.option("--out", "bulk_out", type=click.Path(dir_okay=False), help="CSV to write for --bulk (default stdout)")
@click.pass_context
@friendly_errors
def lookup_command(ctx: click.Context, lon: float | None, lat: float | None, crs: str, address: str | None,
                   bulk_in: str | None, bulk_out: str | None) -> None:
    """Print the grid chain, staff and police liaison responsible for a point or address (JSON), or assign the
    points of a CSV to their finest base grid."""
    from mapserver.api.lookup import lookup_json

    settings = context_settings(ctx)
    store = configured_store(settings)
    modes = (lon is not None or lat is not None, address is not None, bulk_in is not None)
    if sum(modes) != 1 or (lon is None) != (lat is None):
        raise click.UsageError("give exactly one of --lon/--lat, --address or --bulk")
    index = GridIndex.from_store(store, max_snap_m=settings.lookup.max_snap_m)
    if bulk_in is not None:
        _bulk(index, Path(bulk_in), bulk_out, parse_crs(crs))
        return
    extra = {}
    if address is not None:
        best, _ = best_address(AddressMatcher.from_store(store), address, min_score=settings.lookup.min_address_score)
        lon, lat, extra = best.lon, best.lat, {"address": {"code": best.code, "text": best.text, "score": best.score}}
    else:
        lon, lat = (float(v) for v in to_wgs84(lon, lat, parse_crs(crs)))
    found = index.lookup(lon, lat)
    if found is None:
        raise Problem(404, "no grids are loaded; import grids first")
    click.echo(json.dumps({**lookup_json(found, lon, lat), **extra}, ensure_ascii=False, indent=2))


def _bulk(index: GridIndex, source: Path, target: str | None, crs: str) -> None:
    points = read_csv_points(source.read_bytes(), crs=crs)
    codes = index.assign(points.lons, points.lats)
    with click.open_file(target or "-", "w", encoding="utf-8") as out:
        for piece in assignment_csv(points, codes):
            out.write(piece)
    click.echo(f"{len(codes)} points, {int((codes == '').sum())} outside every grid", err=True)


@click.command("check-grids")
@click.option("--json", "as_json", is_flag=True, help="print the whole report as JSON")
@click.pass_context
@friendly_errors
def check_grids_command(ctx: click.Context, as_json: bool) -> None:
    """Check that each grid level tiles the district without gaps or overlaps and that children nest;
    exit 1 when anything is found (household warnings alone do not fail)."""
    from mapserver.topology import check_grids, is_clean

    settings = context_settings(ctx)
    report = check_grids(configured_store(settings).layers.query("grids"),
                         households=settings.grids.households_per_base_grid)
    clean = is_clean(report)
    if as_json:
        click.echo(json.dumps({"clean": clean, **report}, ensure_ascii=False, indent=2))
    else:
        for line in _report_lines(report):
            click.echo(line)
    if not clean:
        ctx.exit(1)


def _report_lines(report: dict) -> list[str]:
    lines = [f"{report['grids']} base grids"]
    for level, found in report["levels"].items():
        lines.append(f"level {level}: {found['grids']} grids, {len(found['overlaps'])} overlaps, "
                     f"{len(found['gaps'])} gaps")
        lines += [f"  overlap {o['a']} × {o['b']}: {o['area_m2']} m² at {o['location']}" for o in found["overlaps"]]
        lines += [f"  gap: {g['area_m2']} m² at {g['location']}" for g in found["gaps"]]
    lines += [f"outside parent: {o['code']} leaves {o['parent_code']} by {o['area_m2']} m² at {o['location']}"
              for o in report["outside_parent"]]
    lines += [f"warning: {w['code']} has {w['households']} households (expected {w['expected'][0]}–{w['expected'][1]})"
              for w in report["household_warnings"]]
    return lines


@click.command("reassign")
@click.pass_context
@friendly_errors
def reassign_command(ctx: click.Context) -> None:
    """Recompute the grid of every stored incident after grids changed (one batch: all or nothing)."""
    from mapserver import audit
    from mapserver.reassign import reassign_incidents

    settings = context_settings(ctx)
    store = configured_store(settings)
    index = GridIndex.from_store(store, max_snap_m=settings.lookup.max_snap_m)
    with store.transaction():  # the grid edit and its audit record land together or not at all
        report = reassign_incidents(store, index)
        if report.moved:  # nothing moved, nothing written
            audit.record(store, actor=audit.cli_actor(), action="incidents.reassign", target="incidents",
                         detail={"checked": report.checked, "moved": report.moved, "outside": report.outside})
    click.echo(f"{report.checked} incidents checked, {report.moved} moved to another grid, "
               f"{report.outside} outside every grid")
