// The patrol planner (巡逻路线规划): choose an area, a start, a budget and must-visit points; plan and save a route;
// see it on the map with its numbered stops and why each was chosen; download GPX, print, reopen saved plans.
// Every text from the server is written with textContent; nothing is parsed as HTML.

import { caller, csrfToken, deskMap, el, pageConfig, sayer } from '../desk/common.js';
import { deskLiveLayer } from '../desk/positions.js';

const config = pageConfig();
const csrf = csrfToken();
const W = config.words;
const E = W.enums;
const root = config.root;

const say = sayer(W);
const call = caller(root);

const clock = new Intl.DateTimeFormat(config.lang === 'en' ? 'en-GB' : 'zh-CN',
  { timeZone: config.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const stamp = new Intl.DateTimeFormat(config.lang === 'en' ? 'en-GB' : 'zh-CN',
  { timeZone: config.timezone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const at = (iso, format = clock) => (iso ? format.format(new Date(iso)) : '');
const fixed = (n, digits) => Number(n).toFixed(digits);

// -- the page ---------------------------------------------------------------------------------------------------

const field = (id, label, control, hint = null) => el('div', { className: 'ms-field' },
  el('label', { htmlFor: id, text: label }), control, hint ? el('span', { className: 'ms-hint', text: hint }) : null);
const radio = (name, value, label, checked) => el('label', { className: 'ms-radio' },
  el('input', { type: 'radio', name, value, checked, id: `${name}-${value}` }), el('span', { text: label }));

const liaison = el('select', { id: 'liaison' });
const grids = el('select', { id: 'grids', multiple: true, size: 4 });
const place = el('select', { id: 'place' }, el('option', { value: '', text: '—' }));
const startText = el('p', { id: 'start-text', className: 'ms-hint', text: W.start_none });
const budget = el('input', { id: 'budget', type: 'number', min: 1, max: config.max_budget_min, step: 1, value: 60,
  required: true });
const mode = el('select', { id: 'mode' },
  ...config.modes.map((m) => el('option', { value: m, text: E.patrol_mode[m] || m })));
const window_ = el('select', { id: 'window' },
  ...config.windows.map((w) => el('option', { value: w, text: E.patrol_window[w] || w })));
const mustToggle = el('button', { id: 'must-toggle', type: 'button', text: W.must_toggle, 'aria-pressed': 'false' });
const mustClear = el('button', { id: 'must-clear', type: 'button', text: W.must_clear });
const mustCount = el('span', { id: 'must-count', className: 'ms-hint', text: say('must_count', { n: 0 }) });
const planButton = el('button', { id: 'plan', type: 'submit', text: W.plan });
const form = el('form', { id: 'plan-form', className: 'ms-form', hidden: !config.can_plan },
  el('h2', { text: W.form }),
  el('fieldset', {}, el('legend', { text: W.area }),
    el('div', { className: 'ms-radios' }, radio('area', 'liaison', W.by_liaison, true),
      radio('area', 'grids', W.by_grids, false)),
    field('liaison', W.liaison, liaison), field('grids', W.grids, grids, W.grids_hint)),
  el('fieldset', {}, el('legend', { text: W.start }),
    el('div', { className: 'ms-radios' }, radio('start', 'map', W.start_on_map, true),
      radio('start', 'place', W.start_place, false)),
    field('place', W.start_place, place), startText),
  el('div', { className: 'ms-row' }, field('budget', W.budget, budget), field('mode', W.mode, mode),
    field('window', W.window, window_)),
  el('fieldset', {}, el('legend', { text: W.must }),
    el('div', { className: 'ms-row' }, mustToggle, mustClear, mustCount),
    el('p', { className: 'ms-hint', text: W.must_hint })),
  el('div', { className: 'ms-buttons' }, planButton));
const message = el('p', { id: 'message', className: 'ms-message', role: 'status' });
const result = el('section', { id: 'result', className: 'ms-result', hidden: true });
const saved = el('ol', { id: 'saved', className: 'ms-saved' });
const savedNote = el('p', { id: 'saved-note', className: 'ms-hint' });
const mapBox = el('div', { id: 'map', 'aria-label': W.start_hint });
document.body.append(
  el('header', { className: 'ms-bar' }, el('p', { className: 'ms-brand', text: W.brand }),
    el('h1', { text: W.title }),
    el('nav', { className: 'ms-nav' }, el('span', { className: 'ms-person', text: config.person.name }),
      el('a', { href: config.links.screen, text: W.to_screen }),
      el('a', { href: config.links.other_lang, text: W.other_lang }))),
  el('main', { className: 'ms-desk' },
    el('aside', { className: 'ms-panel' },
      config.can_plan ? null : el('p', { className: 'ms-readonly', text: W.read_only }),
      form, message, result,
      el('section', { id: 'saved-box', className: 'ms-saved-box' }, el('h2', { text: W.saved }), savedNote, saved)),
    mapBox));

// Only the chosen kind of area shows its control.
const liaisonField = liaison.parentElement;
const gridsField = grids.parentElement;
function showArea() {
  const byGrids = form.elements.area.value === 'grids';
  liaisonField.hidden = byGrids;
  gridsField.hidden = !byGrids;
}
form.addEventListener('change', (event) => { if (event.target.name === 'area') showArea(); });
showArea();

function show(text, kind = 'info') {
  message.textContent = text;
  message.dataset.kind = kind;
}

// -- the map ----------------------------------------------------------------------------------------------------

const map = deskMap(mapBox, config, config.map.center);
// Who is out on patrol now, to plan around them.
if (config.live) deskLiveLayer(map, config.root, config.live);
const pin = (className, label) => L.divIcon({ className: `ms-pin ${className}`, iconSize: [26, 26],
  iconAnchor: [13, 13], html: el('span', { text: label }) });
const planLayer = L.layerGroup().addTo(map);
const mustLayer = L.layerGroup().addTo(map);
let startMarker = null;
let start = null; // { lon, lat } picked on the map
const must = []; // [{ lon, lat, name }]
const places = new Map(); // code → { name, lon, lat }

function setStart(lon, lat, label) {
  if (startMarker) startMarker.remove();
  startMarker = L.marker([lat, lon], { icon: pin('ms-pin-start', '★'), keyboard: false }).addTo(map);
  startText.textContent = label;
}

function pickStart(lon, lat) {
  start = { lon: Number(fixed(lon, 7)), lat: Number(fixed(lat, 7)) };
  form.elements.start.value = 'map';
  setStart(start.lon, start.lat, say('start_at', { lon: fixed(lon, 6), lat: fixed(lat, 6) }));
}

function addMust(lon, lat) {
  if (must.length >= config.max_must_visit) return;
  const n = must.length + 1;
  must.push({ lon: Number(fixed(lon, 7)), lat: Number(fixed(lat, 7)), name: say('must_name', { n }) });
  L.marker([lat, lon], { icon: pin('ms-pin-must', '!'), keyboard: false }).addTo(mustLayer);
  mustCount.textContent = say('must_count', { n: must.length });
}

mustToggle.addEventListener('click', () => {
  const on = mustToggle.getAttribute('aria-pressed') !== 'true';
  mustToggle.setAttribute('aria-pressed', String(on));
  mapBox.classList.toggle('ms-adding', on);
});
mustClear.addEventListener('click', () => {
  must.length = 0;
  mustLayer.clearLayers();
  mustCount.textContent = say('must_count', { n: 0 });
});
map.on('click', (event) => {
  if (!config.can_plan) return;
  const { lng, lat } = event.latlng;
  if (event.originalEvent.shiftKey || mustToggle.getAttribute('aria-pressed') === 'true') addMust(lng, lat);
  else pickStart(lng, lat);
});
place.addEventListener('change', () => {
  const p = places.get(place.value);
  if (!p) return;
  form.elements.start.value = 'place';
  setStart(p.lon, p.lat, p.name);
  map.panTo([p.lat, p.lon]);
});

// -- what the form offers: liaisons, communities, key places (all within the person's jurisdiction) -------------

function pointOf(geometry) {
  if (!geometry) return null;
  if (geometry.type === 'Point') return geometry.coordinates;
  const ring = geometry.type === 'Polygon' ? geometry.coordinates[0] : geometry.coordinates?.[0]?.[0];
  if (!ring || !ring.length) return null;
  return [ring.reduce((s, c) => s + c[0], 0) / ring.length, ring.reduce((s, c) => s + c[1], 0) / ring.length];
}

async function loadChoices() {
  const [staff, communities, keyPlaces] = await Promise.all([
    call('GET', '/api/grid_staff', { params: { role: 'police_liaison', limit: 1000 } }),
    call('GET', '/api/grids', { params: { level: 2, limit: 1000 } }),
    call('GET', '/api/places', { params: { limit: 1000 } })]);
  const names = [...new Set(staff.features.map((f) => f.properties.name))].sort();
  liaison.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
  grids.replaceChildren(...communities.features.map((f) => el('option', { value: f.properties.code,
    text: `${f.properties.name} · ${f.properties.code}` })));
  for (const f of keyPlaces.features) {
    const xy = pointOf(f.geometry);
    if (!xy) continue;
    places.set(f.properties.code, { name: f.properties.name, lon: xy[0], lat: xy[1] });
    place.append(el('option', { value: f.properties.code,
      text: `${f.properties.name} (${E.place_kind[f.properties.kind] || f.properties.kind || ''})` }));
  }
  if (!names.length) form.elements.area.value = 'grids';
  showArea();
}

// -- a plan on the map and in the panel -------------------------------------------------------------------------

function reasonText(r) {
  if (r.kind === 'hot_cell') {
    return `${r.blind_spot ? W.reason.blind_spot : W.reason.hot_cell} (${say('z', { z: r.z })})`;
  }
  if (r.kind === 'key_place') return `${W.reason.key_place}: ${r.name || ''}`;
  if (r.kind === 'overdue_incident') {
    const hours = r.overdue_h == null ? '' : `, ${say('overdue_h', { h: Math.round(r.overdue_h) })}`;
    return `${W.reason.overdue_incident} (${E.category[r.category] || r.category || ''}${hours})`;
  }
  return W.reason[r.kind] || r.kind;
}

function reasonKinds(stop) {
  return [...new Set(stop.reasons.map((r) => (r.kind === 'hot_cell' && r.blind_spot ? 'blind_spot' : r.kind)))];
}

let routeBounds = null;

function drawPlan(plan) {
  planLayer.clearLayers();
  const line = plan.route.geometry.coordinates.map(([x, y]) => [y, x]);
  const route = L.polyline(line, { color: '#4fc3f7', weight: 5, opacity: 0.85 }).addTo(planLayer);
  routeBounds = route.getBounds();
  L.marker([plan.start.lat, plan.start.lon], { icon: pin('ms-pin-start', '★'), keyboard: false }).addTo(planLayer);
  for (const stop of plan.stops) {
    const kinds = reasonKinds(stop);
    L.marker([stop.lat, stop.lon], { icon: pin(`ms-pin-stop ms-kind-${kinds[0] || 'other'}`, String(stop.order)),
      title: `${stop.order}. ${stop.name}` }).addTo(planLayer);
  }
  map.fitBounds(routeBounds, { padding: [30, 30] });
}

// The map is smaller on paper: fit the route again when the page is printed, and again after.
function refit() {
  map.invalidateSize();
  if (routeBounds) map.fitBounds(routeBounds, { padding: [20, 20], animate: false });
}
window.matchMedia('print').addEventListener('change', refit);
window.addEventListener('beforeprint', refit);
window.addEventListener('afterprint', refit);

function showPlan(plan) {
  drawPlan(plan);
  const rows = plan.stops.map((stop) => el('tr', { dataset: { order: stop.order } },
    el('td', { className: 'ms-order', text: String(stop.order) }),
    el('td', {}, el('span', { className: 'ms-stop-name', text: stop.name }),
      el('ul', { className: 'ms-reasons' }, ...stop.reasons.map((r) => el('li', {
        className: `ms-kind-${r.kind === 'hot_cell' && r.blind_spot ? 'blind_spot' : r.kind}`, text: reasonText(r) })))),
    el('td', { className: 'ms-arrival' }, el('span', { text: at(stop.arrival_at) }),
      el('span', { className: 'ms-hint', text: say('arrival_min', { min: Math.round(stop.arrival_min) }) }))));
  const gpx = `${root}/api/patrols/${encodeURIComponent(plan.id)}.gpx`;
  result.replaceChildren(
    el('h2', { text: W.result }),
    el('p', { className: 'ms-plan-id' }, el('span', { text: `${W.plan_id} ` }), el('code', { id: 'plan-id',
      text: plan.id })),
    el('p', { className: 'ms-meta', text: [plan.liaison || (plan.grids || []).join(', '),
      E.patrol_mode[plan.mode] || plan.mode, E.patrol_window[plan.window] || plan.window,
      at(plan.start_at, stamp)].filter(Boolean).join(' · ') }),
    el('p', { id: 'totals', className: 'ms-totals', text: say('totals', { km: fixed(plan.length_m / 1000, 2),
      min: fixed(plan.duration_min, 1), budget: plan.budget_min }) }),
    el('div', { className: 'ms-buttons ms-no-print' },
      el('a', { id: 'gpx', className: 'ms-button', href: gpx, download: `patrol-${plan.id}.gpx`, text: W.gpx }),
      el('button', { id: 'print', type: 'button', text: W.print, onClick: () => window.print() })),
    el('table', { id: 'stops', className: 'ms-stops' },
      el('caption', { text: W.stops }),
      el('thead', {}, el('tr', {}, ...[W.order, W.name, W.arrival].map((t) => el('th', { scope: 'col', text: t })))),
      el('tbody', {},
        el('tr', { className: 'ms-start-row' }, el('td', { className: 'ms-order', text: '★' }),
          el('td', { text: plan.start.name || W.start_row }), el('td', { text: at(plan.start_at) })),
        ...rows)),
    plan.dropped && plan.dropped.length
      ? el('p', { className: 'ms-hint', text: say('dropped', { n: plan.dropped.length }) }) : null);
  result.hidden = false;
  if (window.location.hash !== `#plan=${plan.id}`) window.history.replaceState(null, '', `#plan=${plan.id}`);
}

async function openPlan(id) {
  try {
    showPlan(await call('GET', `/api/patrols/${encodeURIComponent(id)}`));
    show('');
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  }
}

async function loadSaved() {
  const body = await call('GET', '/api/patrols', { params: { limit: 20 } });
  saved.replaceChildren(...body.plans.map((p) => el('li', { dataset: { id: p.id } },
    el('button', { type: 'button', className: 'ms-open', onClick: () => openPlan(p.id) },
      el('span', { className: 'ms-saved-when', text: at(p.created_at, stamp) }),
      el('span', { className: 'ms-saved-who', text: p.liaison || p.created_by || '' }),
      el('span', { className: 'ms-saved-what', text: `${E.patrol_mode[p.mode] || p.mode} · ${
        E.patrol_window[p.window] || p.window} · ${fixed((p.length_m || 0) / 1000, 1)} km · ${
        Math.round(p.duration_min || 0)}/${p.budget_min} min` })))));
  savedNote.textContent = body.plans.length ? (body.numberMatched > body.plans.length
    ? say('more', { total: body.numberMatched, shown: body.plans.length }) : '') : W.none_saved;
}

// -- planning ---------------------------------------------------------------------------------------------------

function requestBody() {
  const area = form.elements.area.value === 'grids'
    ? { grids: [...grids.selectedOptions].map((o) => o.value) } : { liaison: liaison.value };
  const from = form.elements.start.value === 'place' && place.value ? { place: place.value } : start;
  return { area, start: from, budget_min: Number(budget.value), mode: mode.value, window: window_.value,
    must_visit: must.map((p) => ({ ...p })) };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = requestBody();
  if (!body.start) {
    show(W.start_hint, 'warn');
    return;
  }
  planButton.disabled = true;
  show(W.planning);
  try {
    const plan = await call('POST', '/api/patrols/plan', { body, headers: { 'X-CSRF-Token': csrf } });
    showPlan(plan);
    show(say('planned', { id: plan.id }), 'done');
    await loadSaved();
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  } finally {
    planButton.disabled = false;
  }
});

// A link to /desk/patrols#plan=ID opens that plan (a printed page's address, or a plan sent to a colleague).
async function openFromHash() {
  const wanted = window.location.hash.match(/^#plan=([0-9A-Za-z_-]{1,64})$/);
  if (wanted && document.getElementById('plan-id')?.textContent !== wanted[1]) await openPlan(wanted[1]);
}
window.addEventListener('hashchange', openFromHash);

(async () => {
  try {
    await Promise.all([config.can_plan ? loadChoices() : null, loadSaved()]);
    await openFromHash();
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  }
  document.documentElement.dataset.desk = 'ready';
})();
