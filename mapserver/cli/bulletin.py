"""The ``mapserver bulletin`` command: write the weekly bulletin (研判专报) of one ISO week as a self-contained HTML
file (or to standard output), or as an A4 PDF.

A malformed week, a week its year does not have, or one not yet begun is a
usage error (exit code 2) found before the store is opened. The file is
written whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from mapserver.bulletin.pdf import html_to_pdf
from mapserver.bulletin.week import parse_week
from mapserver.bulletin.weekly import HOT_GRID_LEVELS, weekly_bulletin
from mapserver.bulletin.words import LANGS
from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.derived import DerivedData
from mapserver.errors import Problem


@click.command("bulletin")
@click.option("--week", "week_text", required=True, metavar="YYYY-Www",
              help="ISO week, e.g. 2026-W47 (Monday 00:00 to Monday 00:00 in map.timezone)")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="file to write (default: standard output)")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="html: one self-contained page; pdf: A4 (needs Pango and a Chinese font on this machine)")
@click.option("--lang", type=click.Choice(LANGS), default=None, help="labels (default: map.lang)")
@click.option("--level", type=click.Choice([str(n) for n in HOT_GRID_LEVELS]), default="2", show_default=True,
              help="grid level of the top-grids table: 2 community, 3 compound")
@click.pass_context
@friendly_errors
def bulletin_command(ctx: click.Context, week_text: str, out: Path | None, fmt: str, lang: str | None,
                   level: str) -> None:
    """Write the weekly bulletin: the week against the four before it."""
    settings = context_settings(ctx)
    now = datetime.now(UTC)
    try:
        week = parse_week(week_text, zone=settings.map.timezone, now=now)
    except Problem as problem:
        raise click.BadParameter(problem.detail, param_hint="--week") from None
    if fmt == "pdf" and out is None:
        raise click.BadParameter("a PDF needs a file: give --out FILE", param_hint="--out")
    store = configured_store(settings)
    try:
        page = weekly_bulletin(DerivedData(store), settings, week=week, now=now, lang=lang or settings.map.lang,
                               hot_level=int(level))
    finally:
        store.close()
    if out is None:
        click.echo(page, nl=False)
        return
    data = html_to_pdf(page) if fmt == "pdf" else page.encode("utf-8")
    _write_whole(out, data)
    click.echo(f"wrote the bulletin for {week.label} ({fmt}, {len(data):,} bytes) to {out}", err=True)


def _write_whole(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and rename it: a reader never sees half a file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise click.BadParameter(f"folder {folder} does not exist", param_hint="--out")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; give it what a new file would get
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
