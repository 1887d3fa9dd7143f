// Camera view sectors on a sphere: good to centimetres over the tens of metres a camera sees.

const EARTH_RADIUS_M = 6371008.8;

/** The point at distanceM metres from [lat, lng] on bearing bearingDeg (clockwise from north), as [lat, lng]. */
export function destination([lat, lng], bearingDeg, distanceM) {
  const rad = Math.PI / 180;
  const d = distanceM / EARTH_RADIUS_M;
  const b = bearingDeg * rad;
  const p1 = lat * rad;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = lng * rad + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [p2 / rad, l2 / rad];
}

/** The ring of a view sector: apex, then the arc from direction - fov/2 to direction + fov/2 (degrees), range in m. */
export function sector(apex, directionDeg, fovDeg, rangeM, steps = 12) {
  const ring = [apex];
  const start = directionDeg - fovDeg / 2;
  for (let i = 0; i <= steps; i += 1) ring.push(destination(apex, start + (fovDeg * i) / steps, rangeM));
  return ring;
}
