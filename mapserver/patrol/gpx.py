"""A saved or fresh plan as files for handsets and GIS: GPX 1.1 (waypoints + one track) and GeoJSON.

Coordinates are WGS-84 (EPSG:4326), as GPX requires; times are UTC ISO 8601.
Text from the store (names, reasons) is escaped by the XML writer, never
pasted into markup.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

GPX_NS = "http://www.topografix.com/GPX/1/1"
GPX_MEDIA_TYPE = "application/gpx+xml"
REASON_WORDS = {"hot_cell": "hot cell", "key_place": "key place", "overdue_incident": "overdue incident",
                "requested": "requested"}


def reason_text(reason: dict[str, Any]) -> str:
    """One reason in a few words, e.g. ``hot cell z=3.1 (blind spot)``."""
    kind = reason.get("kind", "")
    words = REASON_WORDS.get(kind, kind)
    if kind == "hot_cell":
        return f"{words} z={reason.get('z')}" + (" (blind spot)" if reason.get("blind_spot") else "")
    if kind == "key_place":
        return f"{words} {reason.get('name', '')}".strip()
    if kind == "overdue_incident":
        return f"{words} {reason.get('incident', '')}".strip()
    return words


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def plan_gpx(plan: dict[str, Any]) -> bytes:
    """GPX 1.1: the start and each stop as a waypoint (arrival time, reasons), the route as one track."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "mapserver"})
    title = f"patrol {plan.get('id', '')}".strip()
    meta = _sub(root, "metadata")
    _sub(meta, "name", title)
    _sub(meta, "desc", f"{plan['mode']}, {plan['window']}, {plan['length_m']:.0f} m, {plan['duration_min']:.0f} of "
                       f"{plan['budget_min']:g} min")
    if plan.get("created_at"):
        _sub(meta, "time", plan["created_at"])
    start = plan["start"]
    point = _sub(root, "wpt", lat=f"{start['lat']:.7f}", lon=f"{start['lon']:.7f}")
    if plan.get("start_at"):
        _sub(point, "time", plan["start_at"])
    _sub(point, "name", f"0. {start.get('name') or 'start'}")
    for stop in plan["stops"]:
        point = _sub(root, "wpt", lat=f"{stop['lat']:.7f}", lon=f"{stop['lon']:.7f}")
        _sub(point, "time", stop["arrival_at"])
        _sub(point, "name", f"{stop['order']}. {stop['name']}")
        _sub(point, "desc", "; ".join(reason_text(r) for r in stop["reasons"]))
    track = _sub(root, "trk")
    _sub(track, "name", title)
    segment = _sub(track, "trkseg")
    for lon, lat in plan["route"]["geometry"]["coordinates"]:
        _sub(segment, "trkpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def plan_geojson(plan: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection: the route (LineString) first, then the start and each stop (Points) in order."""
    route = {**plan["route"], "id": plan.get("id") or "route",
             "properties": {**plan["route"].get("properties", {}), "kind": "route", "mode": plan["mode"],
                            "window": plan["window"], "budget_min": plan["budget_min"]}}
    start = plan["start"]
    features = [route, {"type": "Feature", "id": "start", "geometry": {"type": "Point",
                                                                         "coordinates": [start["lon"], start["lat"]]},
                        "properties": {"kind": "start", "order": 0, "name": start.get("name") or "",
                                       "time": plan.get("start_at")}}]
    for stop in plan["stops"]:
        features.append({"type": "Feature", "id": stop["ref"],
                         "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                         "properties": {"kind": "stop", "order": stop["order"], "name": stop["name"],
                                        "time": stop["arrival_at"], "arrival_min": stop["arrival_min"],
                                        "weight": stop["weight"],
                                        "reasons": "; ".join(reason_text(r) for r in stop["reasons"])}})
    return {"type": "FeatureCollection", "features": features}
