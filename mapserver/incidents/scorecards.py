"""Unit scorecards (单位考评, 三色预警): a unit's, street's or community's figures over a window turned into rates
and a colour by the rules of the ``scorecards`` section of config.yaml (:class:`mapserver.config.ScorecardSettings`).

The rates (shares from 0 to 1):

* on-time rate: cases closed by their ``due_at``, over the cases closed or still open past ``due_at`` (a case
  left open after its deadline counts against the unit, not only a late closing);
* closure rate: cases closed, over the cases;
* satisfaction rate: followed-up cases whose latest follow-up (回访) was satisfied or basically satisfied, over
  the cases followed up;
* reopen share: cases reopened at least once, over the cases;
* return share: returns (返单), over the cases plus the returns (every time a case reached the row).

A row breaking any red limit is red (约谈, a formal talk), else any yellow limit yellow (整改提示, a correction
notice), else green (先进典型, a good example); a rate with nothing to count is not judged. A row with fewer than
``min_cases`` (cases plus returns) is too few to rate. Every limit broken is listed as a reason, worst first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapserver.i18n import scorecard_word
from mapserver.store.scorecards import Figures

if TYPE_CHECKING:
    from mapserver.config import ScorecardBand, ScorecardSettings

COLOURS = ("red", "yellow", "green", "unrated")
"""Worst first: the order rows are listed in."""
RULES: tuple[tuple[str, str], ...] = (
    # (rate, how it breaks a limit): "below" or "above"
    ("on_time_rate", "below"), ("closure_rate", "below"), ("satisfaction_rate", "below"),
    ("reopen_share", "above"), ("return_share", "above"),
)
LIMIT_NAMES = {"on_time_rate": "on_time_below", "closure_rate": "closure_below",
               "satisfaction_rate": "satisfaction_below", "reopen_share": "reopen_share_above",
               "return_share": "return_share_above"}


@dataclass(frozen=True)
class Reason:
    """One limit a row broke: the rate, its value, the limit and the colour the limit gives."""

    rate: str
    value: float
    limit: float
    colour: str
    direction: str  # "below" or "above"


@dataclass(frozen=True)
class Scorecard:
    """One row: its figures and rates, its colour and why."""

    figures: Figures
    name: str  # the unit's name, or the grid's name (its code when it has none)
    rates: Mapping[str, float | None]
    colour: str
    reasons: tuple[Reason, ...]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def rates(f: Figures) -> dict[str, float | None]:
    """The five rates of ``f`` (None where there is nothing to count)."""
    return {"on_time_rate": _share(f.closed_on_time, f.closed + f.overdue_open),
            "closure_rate": _share(f.closed, f.cases),
            "satisfaction_rate": _share(f.satisfied, f.followed_up),
            "reopen_share": _share(f.reopened, f.cases),
            "return_share": _share(f.returns, f.cases + f.returns)}


def _broken(values: Mapping[str, float | None], band: ScorecardBand, colour: str) -> list[Reason]:
    out = []
    for rate, direction in RULES:
        value, limit = values[rate], float(getattr(band, LIMIT_NAMES[rate]))
        if value is None:
            continue  # nothing to count: not judged
        if (value < limit) if direction == "below" else (value > limit):
            out.append(Reason(rate, value, limit, colour, direction))
    return out


def score(f: Figures, name: str, settings: ScorecardSettings) -> Scorecard:
    """The scorecard of one row of figures under ``settings``' rules."""
    values = rates(f)
    if f.cases + f.returns < settings.min_cases:
        return Scorecard(f, name, values, "unrated", ())
    red = _broken(values, settings.red, "red")
    red_rates = {r.rate for r in red}
    # A rate past the red limit is past the yellow one too: it is named once, as red.
    yellow = [r for r in _broken(values, settings.yellow, "yellow") if r.rate not in red_rates]
    colour = "red" if red else "yellow" if yellow else "green"
    return Scorecard(f, name, values, colour, (*red, *yellow))


def _worst_first(card: Scorecard) -> tuple[Any, ...]:
    on_time = card.rates["on_time_rate"]
    return (COLOURS.index(card.colour), -len(card.reasons), 2.0 if on_time is None else on_time,
            -card.figures.cases, card.name, card.figures.key)


def scorecards(figures: Iterable[Figures], settings: ScorecardSettings,
               names: Mapping[str, str] | None = None) -> list[Scorecard]:
    """Every row scored, worst first: red, yellow, green, then too few to rate; within a colour the most limits
    broken, then the lowest on-time rate, first. ``names``: key → name shown (grids); else the key."""
    names = names or {}
    return sorted((score(f, names.get(f.key) or f.key, settings) for f in figures), key=_worst_first)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%".replace(".0%", "%")


def reason_text(reason: Reason, lang: str) -> str:
    """A reason in words, e.g. 按期办结率 72.5% 低于红色线 80%."""
    return scorecard_word(lang, f"reason_{reason.direction}", rate=scorecard_word(lang, reason.rate),
                          value=_percent(reason.value), limit=_percent(reason.limit),
                          colour=scorecard_word(lang, f"line_{reason.colour}"))


def as_json(card: Scorecard, lang: str) -> dict[str, Any]:
    """One row as the API answers it: figures, rates, colour, its label and the reasons (text and parts)."""
    f = card.figures
    return {"key": f.key, "name": card.name, "cases": f.cases, "closed": f.closed,
            "closed_on_time": f.closed_on_time, "overdue_open": f.overdue_open, "followed_up": f.followed_up,
            "satisfied": f.satisfied, "reopened": f.reopened, "reopen_count": f.reopen_count, "returns": f.returns,
            **card.rates, "colour": card.colour, "label": scorecard_word(lang, f"colour_{card.colour}"),
            "action": scorecard_word(lang, f"action_{card.colour}"),
            "reasons": [{"rate": r.rate, "value": r.value, "limit": r.limit, "colour": r.colour,
                         "text": reason_text(r, lang)} for r in card.reasons]}
