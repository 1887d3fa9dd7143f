// The live layer of people on patrol (巡查人员), shared by the wall and the desk's map pages: each person with a
// fix in the last few minutes (the server's live_minutes) as a dot coloured by role, their latest fixes as a
// faded trail, and a tooltip with their name, role and the age of their last fix. The layer polls
// /api/positions/live, revalidating by ETag: an unchanged answer is a 304 and no redraw. Ages count on from the
// fixes' times against the server's clock, so a person whose last fix grows too old leaves the map even
// between answers. Every text goes into the page as a text node (a display name is data).
/* global L */

import { el, sayer } from './common.js';

/** Colours by kind of role: grid workers (网格员), police liaisons (警务), everyone else. */
export const ROLE_COLOURS = { field: '#ffca28', liaison: '#40c4ff', other: '#e040fb' };

/** The colour kind of an account's role. */
export function roleKind(role) {
  return role === 'field' || role === 'liaison' ? role : 'other';
}

export class LivePositions {
  /** map: the Leaflet map; group: the L.LayerGroup to draw in (on the map while the layer is shown); root: the
   *  app's URL prefix; words: the layer's labels (mapserver.i18n.live_words); pollS: seconds between polls;
   *  pane: the map pane to draw in (Leaflet's overlay pane when left out); scale: line and dot size factor;
   *  onCount(n): told how many people are shown after each draw (null when the layer is switched off); onError(error): told of a failed poll. */
  constructor({ map, group, root, words, pollS = 5, pane, scale = 1, onCount = () => {}, onError = () => {} }) {
    Object.assign(this, { map, group, root, words, pollS, pane, scale, onCount, onError });
    this.say = sayer(words);
    this.tag = null; // the ETag of the answer held
    this.answer = null;
    this.skew = 0; // server clock minus this browser's, in ms, as of the last answer
    this.shown = ''; // the ids drawn, to redraw only when who is shown changes or a new answer came
    this.timer = null;
  }

  /** Poll now and then every pollS seconds; switched off in a layer control, no polls and no count (null). */
  start() {
    if (this.timer === null) {
      this.timer = setInterval(() => this.refresh(), this.pollS * 1000);
      this.map.on('overlayadd', (event) => {
        if (event.layer !== this.group) return;
        this.shown = null; // count again what shows again
        this.refresh();
      });
      this.map.on('overlayremove', (event) => { if (event.layer === this.group) this.onCount(null); });
    }
    return this.refresh();
  }

  /** Ask for the layer, then draw who is live now; nothing while the layer is hidden. The browser's cache
   *  revalidates with If-None-Match (the answer says Cache-Control: no-cache), so an unchanged layer costs the
   *  server a 304 and this page no parsing: the same ETag keeps the answer held. */
  async refresh() {
    if (!this.map.hasLayer(this.group)) return;
    try {
      const resp = await fetch(`${this.root}/api/positions/live`, { credentials: 'same-origin', cache: 'no-cache',
        headers: { Accept: 'application/geo+json' } });
      if (!resp.ok) throw new Error(`live positions: HTTP ${resp.status}`);
      const tag = resp.headers.get('ETag');
      if (!tag || tag !== this.tag) {
        const answer = await resp.json();
        this.skew = Date.parse(answer.generated_at) - Date.now();
        this.answer = answer;
        this.tag = tag;
        this.shown = null; // a new answer: draw it
      }
    } catch (error) {
      this.onError(error);
    }
    this.draw();
  }

  /** Seconds since the feature's last fix, by the server's clock. */
  age(feature) {
    return Math.max(0, (Date.now() + this.skew - Date.parse(feature.properties.t)) / 1000);
  }

  /** The people whose last fix is recent enough now. */
  live() {
    if (!this.answer) return [];
    const limit = this.answer.live_minutes * 60;
    return this.answer.features.filter((f) => this.age(f) <= limit);
  }

  draw() {
    const people = this.live();
    const ids = people.map((f) => f.id).join('\n');
    if (ids === this.shown) return; // the same answer, the same people: the tooltips count ages on their own
    this.shown = ids;
    this.group.clearLayers();
    for (const f of people) this.drawPerson(f);
    this.onCount(people.length);
  }

  drawPerson(f) {
    const p = f.properties;
    const kind = roleKind(p.role);
    const colour = ROLE_COLOURS[kind];
    const pane = this.pane ? { pane: this.pane } : {};
    if (p.trail && p.trail.length > 1) {
      L.polyline(p.trail.map(([lon, lat]) => [lat, lon]), { ...pane, className: 'ms-live-trail', interactive: false,
        color: colour, weight: 3 * this.scale, opacity: 0.35, lineJoin: 'round' }).addTo(this.group);
    }
    const [lon, lat] = f.geometry.coordinates;
    const dot = L.circleMarker([lat, lon], { ...pane, className: `ms-live ms-live-${kind}`, radius: 7 * this.scale,
      color: '#06101c', weight: 2, fillColor: colour, fillOpacity: 0.95 });
    // A function: the age is counted when the tooltip opens. A node, not a string: Leaflet writes strings as HTML.
    dot.bindTooltip(() => this.tooltip(f, kind));
    dot.addTo(this.group);
    const node = dot.getElement && dot.getElement();
    if (node) node.dataset.person = f.id; // which person a dot is (a page's tests find it by this)
  }

  tooltip(f, kind) {
    const p = f.properties;
    const seconds = Math.round(this.age(f));
    const age = seconds < 60 ? this.say('age_s', { s: seconds }) : this.say('age_m', { m: Math.floor(seconds / 60) });
    return el('div', { className: 'ms-tip ms-live-tip' },
      el('strong', { text: p.display_name || p.person }),
      el('div', { text: `${this.words[kind]}${p.patrol_id ? ` · ${this.words.on_patrol}` : ''}` }),
      el('div', { text: age }));
  }
}

/** The layer on a desk page's map (config.live from the server: { words, poll_s }, null for those who may not
 *  see it): a key of the role colours with the count in the map's corner, polled from now on. */
export function deskLiveLayer(map, root, live) {
  const words = live.words;
  const say = sayer(words);
  const group = L.layerGroup().addTo(map);
  const count = el('div', { className: 'ms-live-count', text: say('count', { n: '—' }) });
  const key = el('div', { className: 'ms-live-key leaflet-bar' }, ...Object.entries(ROLE_COLOURS).map(([kind, colour]) => {
    const swatch = el('span', { className: 'ms-swatch' });
    Object.assign(swatch.style, { display: 'inline-block', width: '0.7rem', height: '0.7rem', borderRadius: '50%',
      marginRight: '0.3rem', background: colour });
    return el('div', {}, swatch, words[kind]);
  }), count);
  // Styled here, by CSSOM (which the pages' CSP allows, a style="" attribute it would not): one key on every page.
  Object.assign(key.style, { background: 'rgba(6, 16, 28, 0.85)', color: '#dbe7f3', padding: '0.3rem 0.5rem',
    fontSize: '0.8rem' });
  const control = L.control({ position: 'bottomleft' });
  control.onAdd = () => key;
  control.addTo(map);
  const layer = new LivePositions({ map, group, root, words, pollS: live.poll_s, onCount: (n) => {
    count.textContent = say('count', { n: n ?? '—' });
    count.dataset.count = n === null ? '' : String(n);
  } });
  layer.start();
  return layer;
}
