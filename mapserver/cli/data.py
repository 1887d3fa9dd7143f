"""The ``mapserver import`` and ``mapserver export`` commands.

``import LAYER FILE`` reads GeoJSON, GeoPackage, Shapefile (plain or zipped) or CSV in
the CRS given by ``--crs`` (wgs84, cgcs2000, gcj02, bd09 or EPSG:n; default: what the
file declares, else WGS-84) and stores WGS-84 lon/lat degrees, all rows or none. On
refusal it prints every problem, one line per row finding, and exits with status 1.
Base grids of one level that overlap are refused unless ``--allow-overlaps``. LAYER may also be
``divisions`` (administrative divisions) or ``street_divisions`` (the division of stored streets), which
carry no geometry (:mod:`mapserver.importing.divisions`).
``export LAYER|all FILE`` writes GeoJSON, GeoPackage or CSV (see :mod:`mapserver.exporter`).

"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.errors import Problem
from mapserver.store import Store

if TYPE_CHECKING:
    from mapserver.importer import ImportReport, Prepare


class TqdmProgress:
    """A ``(stage, done, total)`` progress callback drawing one tqdm bar per stage on stderr.

    ``delay=1``: a bar appears only once its stage has run for a second, so quick imports print nothing extra.
    """

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="row", delay=1, leave=False, file=sys.stderr)
        assert self.bar is not None
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Remove the current bar, if any."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    """``("code=adcode", …)`` → ``{"code": "adcode"}``; a usage error for an item without ``=``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected FIELD=VALUE, got {item!r}", param_hint=option)
        out[key.strip()] = value.strip()
    return out


def _print_refusal(problem: Problem) -> None:
    """One line per finding on stderr, e.g. ``row 10 (411000) geom: invalid polygon: Self-intersection at …``."""
    for item in problem.errors:
        row = f"row {item.get('row')}"
        who = f" ({item['id']})" if item.get("id") not in (None, "") else ""
        click.echo(f"  {row}{who} {item.get('field', '')}: {item.get('reason', '')}", err=True)


@click.command("import")
@click.argument("layer", metavar="LAYER")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--crs", default=None, metavar="CRS",
              help="CRS of the file's coordinates: wgs84, cgcs2000, gcj02, bd09 or EPSG:n "
                   "(default: what the file declares, else wgs84)")
@click.option("--layer", "source_layer", default=None, metavar="NAME",
              help="layer of a GeoPackage, or Shapefile in a zip, to read")
@click.option("--map", "mappings", multiple=True, metavar="FIELD=COLUMN",
              help="read FIELD from COLUMN (repeatable); geom=, lon=, lat= name CSV geometry columns")
@click.option("--set", "values", multiple=True, metavar="FIELD=VALUE",
              help="give FIELD the same VALUE in every row (repeatable), e.g. level=1")
@click.option("--fix", is_flag=True, help="repair invalid polygons (make_valid, polygonal part) and report each")
@click.option("--allow-overlaps", is_flag=True,
              help="grids: import base grids of one level that overlap (≥ 1 m²) each other or the store's")
@click.pass_context
@friendly_errors
def import_command(ctx: click.Context, layer: str, file: str, crs: str | None, source_layer: str | None,
                   mappings: tuple[str, ...], values: tuple[str, ...], fix: bool, allow_overlaps: bool) -> None:
    """Import FILE into LAYER: every row is checked first, and nothing is written if any row is refused."""
    from mapserver import audit
    from mapserver.importer import import_layer

    mapping, fixed = _pairs(mappings, "--map"), _pairs(values, "--set")
    store = configured_store(context_settings(ctx))
    prepare = _incident_preparation(ctx, store) if layer == "incidents" else None
    progress = TqdmProgress()
    try:
        # The audit record joins the import's transaction: a refused file leaves neither rows nor a record.
        # (On SQLite this holds the write lock from the first check, which also keeps the checks current.)
        with store.transaction():
            report = import_layer(store, layer, file, crs=crs, source_layer=source_layer, mapping=mapping,
                                  values=fixed, fix=fix, allow_overlaps=allow_overlaps, progress=progress,
                                  prepare=prepare, timezone=context_settings(ctx).incidents.timezone)
            if report.written:
                audit.record(store, actor=audit.cli_actor(), action="import", target=layer,
                             detail=_audit_detail(report))
    except Problem as problem:
        progress.close()
        _print_refusal(problem)
        raise click.ClickException(problem.detail) from None
    finally:
        progress.close()
        store.close()
    _print_report(report)


def _audit_detail(report: ImportReport) -> dict[str, object]:
    """What an import's audit record keeps: the file (its name, not its folder), counts and CRS."""
    return {"file": Path(report.path).name, "source_layer": report.source_layer, "crs": report.crs,
            "rows": report.rows, "written": report.written, "repaired": len(report.repairs)}


def _incident_preparation(ctx: click.Context, store: Store) -> Prepare:
    """Imported incidents get what a report gets: taxonomy checks, grid chain, H3 cell, deadlines."""
    from mapserver.incidents.enrich import prepare_incidents

    settings = context_settings(ctx)
    return prepare_incidents(store, settings.incidents, max_snap_m=settings.lookup.max_snap_m)


def _print_report(report: ImportReport) -> None:
    click.echo(report.summary())
    for item in report.repairs:
        click.echo(f"  repaired row {item['row']}" + (f" ({item['id']})" if "id" in item else "")
                   + f": {item['reason']}")
    for note in report.notes:
        click.echo(f"  note: {note}")


@click.command("export")
@click.argument("layer", metavar="LAYER|all")
@click.argument("file", type=click.Path())
@click.pass_context
@friendly_errors
def export_command(ctx: click.Context, layer: str, file: str) -> None:
    """Export LAYER to FILE (.geojson, .json, .gpkg or .csv), or all layers to a .gpkg or a folder."""
    from mapserver.exporter import export_all, export_layer

    store = configured_store(context_settings(ctx))
    try:
        if layer == "all":
            counts = export_all(store, file)
        else:
            counts = {layer: export_layer(store, layer, file)}
    finally:
        store.close()
    if layer == "all":
        click.echo(f"exported {len(counts)} layers to {file}: " + ", ".join(f"{n} {c}" for n, c in counts.items()))
    else:
        click.echo(f"{layer}: {counts[layer]} written to {file}")
