"""The ``mapserver demo`` command: fill the store with the demo city (川汇区, or all of Zhoukou).

"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.demo.build import AS_OF, LOAD_ORDER, DemoCity, build_city, load_city
from mapserver.demo.field_load import load_field
from mapserver.demo.specs import SCALES
from mapserver.photos.service import photo_folder
from mapserver.store import Store
from mapserver.store.common import KEYS, iter_chunks


@click.command("demo")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed; the same seed gives the same city")
@click.option("--scale", type=click.Choice(SCALES), default="district", show_default=True,
              help="district: 川汇区 (1,663 building grids, 120,000 incidents); "
                   "city: all ten Zhoukou districts (about 17,000 grids, 1,000,000 incidents; minutes)")
@click.option("--replace/--no-replace", default=False, show_default=True,
              help="delete everything in the data layers first (tokens stay); without it a store "
                   "that holds data is left alone")
@click.option("--as-of", "as_of", default=None, metavar="ISO|now",
              help="end of the year of incidents (UTC; default 2026-11-01, or 'now' for a live-looking wall)")
@click.option("--if-empty", is_flag=True, help="load only into an empty store; otherwise say so and succeed "
                                              "(for first-start scripts)")
@click.pass_context
@friendly_errors
def demo_command(ctx: click.Context, seed: int, scale: str, replace: bool, if_empty: bool,
                 as_of: str | None) -> None:
    """Load the demo city: grids, staff, places, roads, addresses, cameras and a year of incidents."""
    from mapserver import audit

    settings = context_settings(ctx)
    store = configured_store(settings)
    try:
        held = {layer: n for layer in LOAD_ORDER if (n := store.layers.count(layer))}
        if held and if_empty:
            click.echo(f"{store.display_url} already holds data ({_listing(held)}); the demo was not loaded")
            return
        if held and not replace:
            raise click.ClickException(
                f"{store.display_url} already holds data ({_listing(held)}); nothing was changed. "
                "Run with --replace to delete it and load the demo instead.")
        started = time.perf_counter()
        click.echo(f"building the demo {scale} (seed {seed}) …", err=True)
        city = build_city(seed=seed, scale=scale, settings=settings.incidents, progress=scale == "city",
                          as_of=_as_of(as_of))
        with store.transaction():  # the old data goes only if the new data goes in, and with its audit record
            if held:
                _clear(store, held)
            written = load_city(store, city)
            audit.record(store, actor=audit.cli_actor(), action="demo.load", target=scale,
                         detail={"seed": seed, "as_of": city.as_of.isoformat(), "written": written,
                                 "replaced": held})
        # After the cases are committed: track partitions and photo files are made outside that transaction.
        field = load_field(store, city, hashing=settings.accounts.password_hash,
                           files=photo_folder(settings.photos, settings.source), photo_settings=settings.photos)
        click.echo(_summary(store, city, held, time.perf_counter() - started))
        click.echo(f"  field: {_listing(field)} (accounts wg<grid code> have no password: give one with "
                   "`mapserver user set-password`)")
    finally:
        store.close()


def _as_of(text: str | None) -> datetime:
    """The instant the demo's incidents end: a fixed default (so builds repeat), 'now', or an ISO time."""
    if text is None:
        return AS_OF
    if text == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date-time or 'now'", param_hint="--as-of") from None
    return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)


def _clear(store: Store, held: dict[str, int]) -> None:
    """Delete every record of the given layers, children (staff, incidents) before grids."""
    for layer in reversed(LOAD_ORDER):
        if layer in held:
            keys = [getattr(record, KEYS[layer]) for record in store.layers.query(layer)]
            for chunk in iter_chunks(keys, 5000):
                store.layers.delete(layer, keys=list(chunk))


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {layer}" for layer, n in counts.items())


def _summary(store: Store, city: DemoCity, replaced: dict[str, int], seconds: float) -> str:
    levels = [sum(1 for g in city.grids if g.level == level and g.kind == "base") for level in (1, 2, 3, 4)]
    special = sum(1 for g in city.grids if g.kind == "special")
    people = sum(g.population or 0 for g in city.grids if g.level == 1 and g.kind == "base")
    lines = [f"loaded the demo {city.scale} (seed {city.seed}) into {store.display_url} in {seconds:.0f} s"
             + (f", replacing {_listing(replaced)}" if replaced else ""),
             f"  grids: {'/'.join(f'{n:,}' for n in levels)} by level, {special} special; {people:,} residents",
             "  " + _listing({k: v for k, v in city.counts().items() if k != "grids"}),
             f"  incidents run to {city.as_of.isoformat()}"]
    return "\n".join(lines)
