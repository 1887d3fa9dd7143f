"""OGC API – Features Part 1 (Core, GeoJSON) over the store, served under ``/ogc`` by :mod:`mapserver.api.ogc`.

Every collection is in CRS84 (WGS-84 longitude, latitude, degrees); times are
RFC 3339 in UTC. :mod:`.collections` says which store layer (and which rows of
it) each collection is, :mod:`.temporal` parses the ``datetime`` parameter and
:mod:`.documents` builds the JSON documents the standard defines.
"""
