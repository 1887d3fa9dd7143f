"""Reading the per-day incident summary: which measures it can answer, the UTC days it covers for a time
window, and percentiles from its duration histograms.

The summary (tables ``incident_daily``, ``incident_daily_streets`` and ``incident_daily_durations``, kept by
triggers on every write to incidents) holds, per UTC day of ``reported_at``: exact counts by category ×
severity × status with the closed-on-time count, exact counts by street (``grid_l1``), and histograms of the
seconds from report to dispatch and to close. Histogram bucket 0 holds durations under 1 s; bucket b ≥ 1
holds [2^((b−1)/32), 2^(b/32)) seconds.

Percentiles follow ``percentile_cont`` (linear interpolation between the two nearest order statistics).
Each order statistic is estimated inside the bucket that holds it (spread evenly across the bucket), so
the estimate and the exact value share a bucket: the error is under one bucket's width, that is under
:data:`RELATIVE_ERROR` (2.19%) of the exact value, or under 1 s for durations under 1 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

BUCKETS_PER_DOUBLING = 32
RELATIVE_ERROR = 2 ** (1 / BUCKETS_PER_DOUBLING) - 1
"""Largest error of a percentile read from the histograms, as a share of the exact value (durations ≥ 1 s)."""
ABSOLUTE_ERROR_UNDER_1S = 1.0
"""Largest error, in seconds, of a percentile under 1 s read from the histograms."""
SUMMARY_LEVELS = (None, 1)
"""Grid levels the summary can group by: none (the district) and streets (``grid_l1``)."""
MEASURES = {"dispatch": "dispatched_at", "close": "closed_at"}


def bucket_of_seconds_sql(seconds: str) -> str:
    """Portable SQL for the histogram bucket of the SQL expression ``seconds`` (as :func:`bucket_of` computes it)."""
    return (f"(CASE WHEN {seconds} < 1 THEN 0 ELSE 1 + CAST(floor({BUCKETS_PER_DOUBLING} * log2({seconds})) "
            "AS INTEGER) END)")


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The seconds a bucket spans, [low, high)."""
    if bucket <= 0:
        return 0.0, 1.0
    return 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING), 2 ** (bucket / BUCKETS_PER_DOUBLING)


def bucket_of(seconds: float) -> int:
    """The bucket holding a duration (as the SQL computes it, up to rounding at a bucket's edge)."""
    return 0 if seconds < 1 else 1 + math.floor(BUCKETS_PER_DOUBLING * math.log2(seconds))


def percentiles(histogram: Mapping[int, int], wanted: Iterable[float] = (0.5, 0.9)) -> list[float | None]:
    """``percentile_cont`` estimates (seconds) for each fraction in ``wanted`` from bucket → count."""
    buckets = sorted((b, int(n)) for b, n in histogram.items() if n > 0)
    total = sum(n for _, n in buckets)
    if total == 0:
        return [None for _ in wanted]

    def order_statistic(k: int) -> float:  # the k-th smallest (from 0), placed evenly inside its bucket
        seen = 0
        for bucket, n in buckets:
            if k < seen + n:
                low, high = bucket_bounds(bucket)
                return low + (high - low) * (k - seen + 0.5) / n
            seen += n
        raise AssertionError("rank beyond the histogram")

    out = []
    for p in wanted:
        position = p * (total - 1)
        lo, hi = math.floor(position), math.ceil(position)
        low_value = order_statistic(lo)
        out.append(low_value + (order_statistic(hi) - low_value) * (position - lo))
    return out


@dataclass(frozen=True)
class Days:
    """The whole UTC days inside a time window, and the window's parts outside them (read from incidents).

    ``first``/``end``: the summary's days first ≤ day < end (None: unbounded). ``edges``: (since, until)
    ranges of ``reported_at`` (UTC, until exclusive) in the window but not in a whole day.
    """

    first: date | None
    end: date | None
    edges: tuple[tuple[datetime, datetime], ...]


def whole_days(since: datetime | None, until: datetime | None) -> Days | None:
    """The window [since, until) split into whole UTC days and edges; None when it holds no whole day."""
    first = end = None
    edges = []
    if since is not None:
        since = _as_utc(since)
        first = since.date() if since.time() == time(0) else since.date() + timedelta(days=1)
    if until is not None:
        until = _as_utc(until)
        end = until.date()
    if first is not None and end is not None and first >= end:
        return None
    if since is not None and first is not None and _midnight(first) > since:
        edges.append((since, _midnight(first)))
    if until is not None and end is not None and _midnight(end) < until:
        edges.append((_midnight(end), until))
    return Days(first, end, tuple(edges))


def _as_utc(moment: datetime) -> datetime:
    """A naive time is UTC, as the store takes it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
