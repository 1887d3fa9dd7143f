// The search box: pasted coordinates "lon,lat" in a chosen CRS, or an address (when the grid index is installed).

import { el } from './dom.js';

const CRS = ['wgs84', 'gcj02', 'bd09', 'cgcs2000'];
const COORDS = /^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/;

/** [lon, lat] from "lon,lat" (comma, full-width comma or space); a pasted "lat,lon" of a point in China is swapped. */
export function parseCoords(text) {
  const m = COORDS.exec(text);
  if (!m) return null;
  let [a, b] = [Number(m[1]), Number(m[2])];
  // China spans lon 73–135 and lat 3–54: the larger number is the longitude (map apps copy both orders).
  if (Math.abs(a) <= 60 && Math.abs(b) > 60 && Math.abs(b) <= 180) [a, b] = [b, a];
  if (Math.abs(a) > 180 || Math.abs(b) > 90) return null;
  return [a, b];
}

/** The point of an address-lookup answer, whichever of the usual shapes it takes. */
function lookupPoint(body) {
  const candidates = [body, body.match, body.best, body.address, body.result].filter(Boolean);
  for (const c of candidates) {
    if (typeof c.lon === 'number' && typeof c.lat === 'number') return [c.lon, c.lat];
    const coords = (c.geometry && c.geometry.coordinates) || (c.point && (c.point.coordinates || c.point));
    if (Array.isArray(coords)) return coords;
  }
  return null;
}

export class Search {
  constructor(api, map, details, words, slot) {
    Object.assign(this, { api, map, details, words });
    this.input = el('input', { type: 'search', className: 'ms-search-input', placeholder: words.search_placeholder,
      autocomplete: 'off', spellcheck: false });
    this.crs = el('select', { className: 'ms-crs', title: 'CRS' },
      CRS.map((name) => el('option', { value: name }, words[`crs_${name}`])));
    this.message = el('div', { className: 'ms-search-message', role: 'status' });
    const form = el('form', { className: 'ms-search', onSubmit: (e) => { e.preventDefault(); this.run(); } },
      this.input, this.crs, el('button', { type: 'submit' }, words.search));
    slot.append(form, this.message);
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  async run() {
    const text = this.input.value.trim();
    this.say('');
    if (!text) return;
    const coords = parseCoords(text);
    try {
      if (coords) await this.goTo(coords, this.crs.value);
      else if (/^[-\d.,，\s]+$/.test(text)) this.say(this.words.bad_coords);
      else await this.address(text);
    } catch (error) {
      this.say(error.routeMissing ? this.words.lookup_missing : `${this.words.lookup_failed}: ${error.message}`);
    }
  }

  async goTo([lon, lat], crs) {
    const found = await this.api.get('/api/screen/locate', { lon, lat, crs });
    this.map.flyTo([found.lat, found.lon], Math.max(this.map.getZoom(), 16), { duration: 1.2 });
    await this.details.point(found);
  }

  async address(text) {
    const body = await this.api.get('/api/lookup', { address: text });
    const point = lookupPoint(body);
    if (!point) throw new Error(this.words.lookup_failed);
    await this.goTo(point, 'wgs84');
  }
}
