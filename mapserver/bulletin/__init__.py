"""The weekly bulletin (研判专报) for the analysis meetings: ``mapserver bulletin`` and ``GET /api/reports/weekly``.

One ISO week (local Monday 00:00 to Monday 00:00, UTC instants inside)
against the four before it: counts by category and street, hot grids, new and
intensifying hotspots, camera blind spots, overdue items, closure and on-time
rates, with an inline SVG map (local metric plane) and charts. The page links
to nothing outside itself.
"""
