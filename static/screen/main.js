// The big screen, kept live: reads the settings folium wrote into the page, builds the frame around the map,
// then polls the JSON endpoints every refresh_s seconds and redraws what changed. No page reloads.
/* global L */

import { LivePositions } from '../desk/positions.js';
import { Api } from './api.js';
import { Details } from './details.js';
import { DotLayer } from './dots.js';
import { fmt } from './dom.js';
import { Panels } from './panels.js';
import { RENDERERS } from './renderers.js';
import { Search } from './search.js';
import { Ground } from './ground.js';
import { TileBatch, withClusters } from './tiles.js';
import { buildFrame, markWindow, showLiveCount, showMeasures, showNotices, showStatus } from './ui.js';

const cfg = JSON.parse(document.getElementById('screen-config').textContent);
const map = window[cfg.map]; // created by folium's inline script, which ran before this module
const scale = Math.max(1, window.innerWidth / 1920); // lines and dots grow with a 4K wall
const locale = cfg.lang === 'zh' ? 'zh-CN' : 'en-GB';
const timeFormat = new Intl.DateTimeFormat(locale, { timeZone: cfg.timezone, dateStyle: 'short', timeStyle: 'medium' });
const clockFormat = new Intl.DateTimeFormat(locale, { timeZone: cfg.timezone, dateStyle: 'medium', timeStyle: 'medium' });
const time = (iso) => (iso ? timeFormat.format(new Date(iso)) : '');

const state = { window: cfg.window, words: cfg.words, lang: cfg.lang, time, authLost: false, generation: 0,
  video: cfg.video };
const api = new Api(cfg.root, () => {
  state.authLost = true;
  if (cfg.person) toLogin(); // a person's session ended: log in again, then come back here
});
const frame = buildFrame(cfg, { onWindow: switchWindow, onGrid: (code) => details.grid(code, null) });
const details = new Details(api, map, state);
new Search(api, map, details, cfg.words, frame.search); // eslint-disable-line no-new
const incidentLayer = cfg.layers.find((l) => l.renderer === 'incidents');
const panels = new Panels({ map, details, words: cfg.words, lang: cfg.lang, timezone: cfg.timezone,
  incidentStyle: incidentLayer ? incidentLayer.style : null });

const layers = cfg.layers.map((spec, index) => {
  const group = window[spec.group];
  // One pane per layer, stacked in config order: a redraw must not lift street outlines over communities.
  const pane = `ms-${spec.key}`;
  const paneNode = map.createPane(pane);
  paneNode.style.zIndex = String(401 + index);
  paneNode.dataset.layer = spec.key; // what drew a feature (a path, or a dot its canvas tile lists as painted)
  // Point features and clusters are painted on the pane's canvas tiles, not made one Leaflet marker each.
  const dots = new DotLayer({ pane, group, title: spec.key });
  const ctx = { group, dots, map, pane, style: spec.style, words: cfg.words, scale, time, title: spec.title,
    select: (item) => details.select(item) };
  const drawn = RENDERERS[spec.renderer](ctx);
  // A tiled layer (tiles.js) hands its renderer every feature in view and draws clusters beside them.
  const renderer = spec.tiled ? withClusters(drawn, ctx, spec.renderer) : drawn;
  return { spec, group, renderer, shown: null };
});
// The tiled layers in view share their requests: one per tile address for every one of them shown.
const tiles = new TileBatch({ root: cfg.root, map });

// The people on patrol: their own layer, polled more often than the others (it is what moves).
let live = null;
if (cfg.live) {
  const pane = map.createPane('ms-live');
  pane.style.zIndex = String(401 + layers.length);
  pane.dataset.layer = 'live';
  live = new LivePositions({ map, group: window[cfg.live.group], root: cfg.root, words: cfg.words.live,
    pollS: cfg.live.poll_s, pane: 'ms-live', scale, onCount: (n) => showLiveCount(frame, n) });
}

/** The part of the map in view, padded a quarter each way and rounded outward to 0.001° (≈100 m). */
function viewBox() {
  const b = map.getBounds().pad(0.25);
  const down = (v) => Math.floor(v * 1000) / 1000;
  const up = (v) => Math.ceil(v * 1000) / 1000;
  return [Math.max(-180, down(b.getWest())), Math.max(-90, down(b.getSouth())),
    Math.min(180, up(b.getEast())), Math.min(90, up(b.getNorth()))].join(',');
}

/** Whether the layer is to be drawn now: shown in the layer control and zoomed in far enough (else cleared). */
function inView(layer) {
  const { spec, group } = layer;
  if (!map.hasLayer(group)) return false;
  if (map.getZoom() >= spec.min_zoom) return true;
  group.clearLayers();
  layer.shown = null;
  if (spec.tiled) tiles.forget(spec.key);
  else api.forget(`/api/screen/layers/${spec.key}`);
  return false;
}

async function refreshLayer(layer) {
  const { spec, renderer } = layer;
  if (!inView(layer)) return;
  const params = { window: spec.uses_window ? state.window : null, bbox: spec.uses_bbox ? viewBox() : null };
  const generation = state.generation;
  const data = await api.get(`/api/screen/layers/${spec.key}`, params, { poll: true });
  if (data && generation === state.generation) {
    renderer.draw(data);
    layer.shown = data;
  }
}

/** The tiled layers in view, from one request per tile address; each redrawn when its own part changed. */
async function refreshTiled() {
  const shown = layers.filter((l) => l.spec.tiled && inView(l));
  const generation = state.generation;
  const found = await tiles.load({ layers: shown.map((l) => ({ key: l.spec.key, usesWindow: l.spec.uses_window })),
    window: state.window, onAuthLost: api.onAuthLost });
  for (const layer of shown) {
    const data = found.get(layer.spec.key);
    if (!data) continue;
    if (generation !== state.generation) {
      tiles.forget(layer.spec.key); // loaded for the window before: drawn by the next round, not taken as drawn
      continue;
    }
    layer.renderer.draw(data);
    layer.shown = data;
  }
}

async function refreshMeasures() {
  const generation = state.generation;
  const answer = await api.get('/api/screen/measures', { window: state.window }, { poll: true });
  if (answer && generation === state.generation) showMeasures(frame, answer, state.window);
}

async function refreshPanels() {
  const generation = state.generation;
  const answer = await api.get('/api/screen/panels', { window: state.window }, { poll: true });
  if (!answer || generation !== state.generation) return;
  try {
    await panels.show(answer, state.window);
  } catch (error) {
    api.forget('/api/screen/panels'); // drawn next time, not taken for the answer already shown
    throw error;
  }
}

function notices() {
  return layers.filter((l) => l.shown && l.shown.numberMatched > l.shown.numberReturned).map((l) => fmt(
    cfg.words.truncated, { layer: l.spec.title, shown: l.shown.numberReturned, total: l.shown.numberMatched }))
    .concat(layers.filter((l) => l.shown && l.shown.aggregated && map.hasLayer(l.group))
      .map((l) => fmt(cfg.words.aggregated, { layer: l.spec.title })));
}

// Logging out: the session ends under the polls, whose 401s must not send the page elsewhere than the logout does.
let leaving = false;
document.addEventListener('submit', (event) => { if (event.target.classList.contains('ms-logout')) leaving = true; });

/** To the login page, which brings the browser back to this page (its window and language too) afterwards. */
function toLogin() {
  if (leaving) return;
  const query = new URLSearchParams({ next: window.location.pathname + window.location.search });
  if (cfg.lang === 'en') query.set('lang', 'en');
  window.location.assign(`${cfg.person.links.login}?${query}`);
}

/** After the next frame is painted (or a second, where a hidden page paints none). */
function painted() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 1000);
  });
}

let running = false;
let again = false;
let firstDrawn = false;
/** One round of every answer on the wall; `poll`: asked by the refresh interval, not by a move or a switch. */
async function refresh({ poll = false } = {}) {
  if (running) { // a slow answer must not pile polls on top of each other; one more runs after it
    // ... except that the first round is the only one until it has drawn: a poll would ask again for what is
    // still on its way, and its answers would be made while the first draw waits for the server and the CPU.
    if (firstDrawn || !poll) again = true;
    return;
  }
  running = true;
  again = false;
  state.authLost = false; // set again by any answer of 401 in this round
  try {
    const results = await Promise.allSettled([refreshMeasures(), refreshPanels(), refreshTiled(),
      ...layers.filter((l) => !l.spec.tiled).map(refreshLayer)]);
    const failed = results.find((r) => r.status === 'rejected');
    if (state.authLost) showStatus(frame, 'revoked');
    else if (failed) showStatus(frame, 'offline');
    else showStatus(frame, 'live', new Date().toLocaleTimeString(locale, { timeZone: cfg.timezone, hour12: false }));
    showNotices(frame, notices());
    document.documentElement.dataset.screen = failed ? 'error' : 'live';
    if (!firstDrawn) await painted();
  } finally {
    firstDrawn = true;
    running = false;
  }
  if (again) refresh();
}

function switchWindow(name) {
  if (name === state.window) return;
  state.window = name;
  state.generation += 1; // answers still on their way belong to the old window
  markWindow(frame, name);
  const url = new URL(window.location.href);
  url.searchParams.set('window', name);
  window.history.replaceState(null, '', url);
  api.forget('/api/screen/');
  refresh();
}

function tick() {
  frame.clock.textContent = clockFormat.format(new Date());
}

markWindow(frame, state.window);
if (cfg.jurisdiction) {
  // A wall of one street (or community) opens on it, whatever the wall's size, below the title bar.
  const top = document.querySelector('.ms-bar').offsetHeight;
  map.fitBounds(cfg.jurisdiction.bounds, { animate: false, paddingTopLeft: [0, top] });
} else if (scale >= 1.5) {
  // The configured zoom is for a 1920-wide wall; a 3840-wide one at the same pixel ratio sees the same area one
  // zoom level deeper.
  map.setZoom(map.getZoom() + Math.round(Math.log2(scale)), { animate: false });
}
map.on('moveend', () => refresh());
map.on('zoomend', () => layers.forEach((l) => l.renderer.zoomed && l.renderer.zoomed()));
map.on('overlayadd', () => refresh());
if (live) live.start();
if (cfg.ground) new Ground(cfg.ground).addTo(map); // no tile service: the store's own roads, water and names
tick();
setInterval(tick, 1000);
setInterval(() => refresh({ poll: true }), cfg.refresh_s * 1000);
refresh();
