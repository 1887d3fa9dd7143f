"""The parts of :func:`mapserver.importer.import_layer`, one concern per module.

* :mod:`.source` opens a GeoJSON, GeoPackage, Shapefile (plain or zipped) or CSV file
  through pyogrio and hands back plain columns and *raw* geometries, in the file's CRS.
* :mod:`.geometry` turns raw geometries into valid WGS-84 (EPSG:4326, lon/lat degrees)
  shapely geometries, or says row by row why it cannot.
* :mod:`.fields` maps record fields to file columns and converts values to the types
  the records in :mod:`mapserver.model` expect.
* :mod:`.checks` holds the rules that look across rows and at the store: duplicate keys,
  grid parents and nesting, staff grids.
* Incidents, imported by the hundred thousand, go through columns:
  :mod:`.incident_columns` reads a file's rows into an
  :class:`~mapserver.store.incident_batch.IncidentBatch` with vectorised checks
  (:mod:`.columns` converts whole columns exactly as :mod:`.fields` converts cells),
  :mod:`.naming` gives content ids to a column at once, and :mod:`.incident_stream`
  names, checks and prepares the good rows a part at a time while the store writes them.

Row numbers everywhere are 1-based feature numbers (for a CSV: data rows, header not counted).
"""
