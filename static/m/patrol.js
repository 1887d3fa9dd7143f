// Patrol (巡逻): today's plan for my grid (the newest plan I may read made today, else the newest one marked with
// its day, or the one my running patrol follows) with its stops, on a map with the route and where I am; start a
// patrol after it and stop it. While it runs, the phone's position (watchPosition) is kept and sent in batches,
// every 30 s or every 20 fixes, and before a check-in or the stop. A stop's check-in button is enabled when the
// latest position is within 50 m of it (the server refuses one farther). Starts, positions, check-ins and the stop
// go through the outbox like everything else, so a patrol without signal is sent when it returns. Distances are
// metres on the sphere, positions WGS-84 as the phone gives them.

import { deskMap, el } from '../desk/common.js';
import { kvGet, kvSet } from './outbox.js';

const BATCH_MS = 30000;
const BATCH_FIXES = 20;
const NEAR_M = 50; // the server's reach for a check-in (mapserver/tracks/plan_actual.py NEAR_M)
const EARTH_M = 6371008.8;
const GEO = { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 };

// Metres between two WGS-84 points (haversine).
function metres(lon1, lat1, lon2, lat2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

export async function patrolScreen(root, config, ui, outbox) {
  const { say, when, message } = ui;
  const E = config.endpoints;
  const KEY = `patrol:${config.person.account}`;
  const PLAN_KEY = `plan:${config.person.account}`;
  const controls = el('div', { className: 'm-actions', id: 'patrol-controls' });
  const here = el('p', { className: 'm-hint', id: 'here', text: say('locating') });
  const status = el('p', { className: 'm-message', id: 'patrol-message', hidden: true, role: 'status' });
  const plan = el('section', { className: 'm-plan', id: 'plan' }, el('p', { className: 'm-hint', text: '…' }));
  const mapBox = el('div', { className: 'm-map', id: 'patrol-map' });
  root.append(el('h1', { text: say('patrol') }), controls, here, status, el('h2', { text: say('patrol_plan') }),
    mapBox, plan);
  const map = deskMap(mapBox, config, config.centre);
  const planLayer = L.layerGroup().addTo(map);
  const walked = L.polyline([], { color: '#00e676', weight: 3, interactive: false }).addTo(map); // this page's fixes
  const me = L.circleMarker([config.centre[1], config.centre[0]], { radius: 7, color: '#fff', weight: 2,
    fillColor: '#4fc3f7', fillOpacity: 1, interactive: false });

  // The patrol running on this phone: {seq (of its start in the outbox), id (once the server answered), plan_id,
  // fixes (positions kept), checked (stop orders checked in)}; null when none.
  let current = (await kvGet(KEY)) || null;
  let chosen = null; // the plan shown
  let position = null; // the latest {lon, lat, t, accuracy}
  let buffer = [];
  let watching = null;

  async function getJson(url) {
    const resp = await fetch(url, { credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' } });
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }

  async function keep() {
    await kvSet(KEY, current);
  }

  // The server's word on my running patrol, when there is signal: it may have been started or stopped elsewhere.
  async function readCurrent() {
    if (!navigator.onLine) return;
    try {
      const answer = await getJson(E.patrol_current);
      if (answer.patrol) {
        const same = current && (current.id === answer.patrol.id || current.id === null);
        current = { seq: same ? current.seq : null, id: answer.patrol.id, plan_id: answer.patrol.plan_id,
          fixes: same ? current.fixes : 0, checked: answer.check_ins.map((c) => c.stop) };
      } else if (current && current.id) {
        current = null; // stopped on another device
      }
      await keep();
    } catch (error) {
      // no connection after all: the patrol as this phone kept it
    }
  }

  // Today's date where the incidents are (YYYY-MM-DD): the plans made since its midnight are the day's plans.
  function localToday() {
    return new Intl.DateTimeFormat('en-CA', { timeZone: config.timezone, year: 'numeric', month: '2-digit',
      day: '2-digit' }).format(new Date());
  }

  async function loadPlan() {
    const wanted = current && current.plan_id;
    try {
      if (!navigator.onLine) throw new Error('offline');
      let id = wanted;
      let made = null; // when the plan shown was made, if not today
      if (!id) {
        const today = await getJson(`${E.plans}?limit=1&since=${localToday()}`);
        const listing = today.plans.length ? today : await getJson(`${E.plans}?limit=1`);
        id = listing.plans.length ? listing.plans[0].id : null;
        made = listing === today || !id ? null : listing.plans[0].created_at;
      }
      chosen = id ? { ...await getJson(E.plan.replace('{id}', encodeURIComponent(id))), made } : null;
      await kvSet(PLAN_KEY, chosen);
    } catch (error) {
      const kept = await kvGet(PLAN_KEY);
      chosen = kept && (!wanted || kept.id === wanted) ? kept : null;
    }
    drawPlan();
  }

  // The route and each stop with the 50 m within which a check-in is taken.
  function drawPlanMap() {
    planLayer.clearLayers();
    if (!chosen) return;
    const line = ((chosen.route || {}).geometry || {}).coordinates || [];
    if (line.length >= 2) {
      L.polyline(line.map(([lon, lat]) => [lat, lon]), { color: '#4fc3f7', weight: 4, opacity: 0.8,
        interactive: false }).addTo(planLayer);
    }
    for (const stop of chosen.stops || []) {
      L.circle([stop.lat, stop.lon], { radius: NEAR_M, color: '#ffb300', weight: 1, fillOpacity: 0.15,
        interactive: false }).addTo(planLayer);
      L.circleMarker([stop.lat, stop.lon], { radius: 5, color: '#ffb300', fillOpacity: 1, interactive: false })
        .addTo(planLayer);
    }
    const points = [...line.map(([lon, lat]) => [lat, lon]), ...(chosen.stops || []).map((s) => [s.lat, s.lon])];
    walked.bringToFront();
    if (points.length) map.fitBounds(L.latLngBounds(points), { padding: [20, 20], maxZoom: config.map.zoom });
  }

  function drawPlan() {
    drawPlanMap();
    if (!chosen) {
      plan.replaceChildren(el('p', { className: 'm-empty', id: 'no-plan', text: say('no_plan') }));
      return;
    }
    plan.dataset.id = chosen.id;
    plan.replaceChildren(
      ...(chosen.made ? [el('p', { className: 'm-notice', id: 'plan-made', text: say('plan_made',
        { t: when(chosen.made) }) })] : []),
      el('p', { className: 'm-hint', text: [chosen.start_at ? when(chosen.start_at) : '',
        say('km', { km: (chosen.length_m / 1000).toFixed(1) }),
        say('minutes', { n: Math.round(chosen.duration_min) })].filter(Boolean).join(' · ') }),
      el('h3', { text: say('stops') }),
      el('ol', { className: 'm-stops', id: 'stops' }, ...(chosen.stops || []).map((stop) => el('li', {
        dataset: { order: String(stop.order) } },
      el('span', { className: 'm-stop-name', text: stop.name || stop.ref || String(stop.order) }),
      el('span', { className: 'm-hint m-stop-distance' }),
      el('button', { type: 'button', className: 'm-button m-secondary m-checkin', disabled: true,
        dataset: { order: String(stop.order) }, text: say('checkin'), onClick: () => checkIn(stop) })))));
    drawStops();
  }

  // Each stop's distance from here, and its button: enabled on a patrol after this plan within 50 m.
  function drawStops() {
    if (!chosen) return;
    const onPlan = current && current.plan_id === chosen.id;
    for (const stop of chosen.stops || []) {
      const item = plan.querySelector(`li[data-order="${stop.order}"]`);
      if (!item) continue;
      const away = position ? metres(position.lon, position.lat, stop.lon, stop.lat) : null;
      const checked = onPlan && current.checked.includes(stop.order);
      item.querySelector('.m-stop-distance').textContent = away === null ? '' : say('away', { m: Math.round(away) });
      item.dataset.checked = checked ? 'yes' : 'no';
      const button = item.querySelector('button');
      button.textContent = checked ? say('checked_in') : say('checkin');
      button.disabled = !onPlan || checked || away === null || away > NEAR_M || position.accuracy > NEAR_M;
    }
  }

  function drawControls() {
    if (current) {
      controls.replaceChildren(
        el('p', { className: 'm-hint', id: 'patrol-running', dataset: { fixes: String(current.fixes) },
          text: say('running', { n: current.fixes }) }),
        el('button', { type: 'button', className: 'm-button m-danger', id: 'patrol-stop', text: say('stop'),
          onClick: stop }));
    } else {
      controls.replaceChildren(el('button', { type: 'button', className: 'm-button m-primary', id: 'patrol-start',
        text: chosen ? say('start_plan') : say('start'), onClick: start }));
    }
    drawStops();
  }

  // The positions waiting on the phone go into the outbox as one batch.
  async function sendFixes() {
    if (!buffer.length) return;
    const fixes = buffer;
    buffer = [];
    await outbox.add({ kind: 'fixes', label: say('positions', { n: fixes.length }), method: 'POST',
      url: E.positions, json: { fixes } });
    outbox.flush();
  }

  function located(pos) {
    position = { lon: pos.coords.longitude, lat: pos.coords.latitude, t: new Date(pos.timestamp).toISOString(),
      accuracy: pos.coords.accuracy };
    here.textContent = say('accuracy', { m: Math.round(position.accuracy) });
    me.setLatLng([position.lat, position.lon]).addTo(map);
    if (current) {
      walked.addLatLng([position.lat, position.lon]);
      buffer.push(position);
      current.fixes += 1;
      keep();
      if (buffer.length >= BATCH_FIXES) sendFixes();
      drawControls();
    } else {
      drawStops();
    }
  }

  function watch() {
    if (!navigator.geolocation) { here.textContent = say('no_location'); return; }
    watching = navigator.geolocation.watchPosition(located,
      (error) => { here.textContent = say('geo_failed', { detail: error.message || String(error.code) }); }, GEO);
    window.setInterval(sendFixes, BATCH_MS);
  }

  // The URL of `template` for the running patrol: its id, or {parent} until its start is sent.
  function patrolUrl(template) {
    return template.replace('{id}', current.id ? encodeURIComponent(current.id) : '{parent}');
  }

  async function start() {
    const planId = chosen ? chosen.id : null;
    const seq = await outbox.add({ kind: 'patrol', label: say('start'), method: 'POST', url: E.patrol_start,
      json: planId ? { plan_id: planId } : {} });
    current = { seq, id: null, plan_id: planId, fixes: 0, checked: [] };
    await keep();
    drawControls();
    await outbox.flush();
    const started = outbox.results.get(seq);
    const refused = outbox.refused.find((r) => r.seq === seq);
    if (started) {
      current.id = started.id;
      await keep();
      message(status, say('started'), 'ok');
    } else if (refused) {
      message(status, say('error', { detail: refused.detail }), 'error');
      current = null;
      await keep();
      await readCurrent(); // one already running (409): carry on with that one
    } else {
      message(status, say('queued_action', { action: say('start') }), 'queued');
    }
    drawControls();
  }

  async function stop() {
    await sendFixes();
    await outbox.add({ kind: 'patrol', label: say('stop'), method: 'POST', url: patrolUrl(E.patrol_stop),
      parent: current.id ? undefined : current.seq });
    current = null;
    await keep();
    drawControls();
    await outbox.flush();
    message(status, navigator.onLine ? say('stopped') : say('queued_action', { action: say('stop') }),
      navigator.onLine ? 'ok' : 'queued');
  }

  async function checkIn(stop) {
    if (!current || !position) return;
    await sendFixes(); // the track reaches the stop before the check-in does
    const body = { stop: stop.order, lon: position.lon, lat: position.lat, t: position.t,
      accuracy: position.accuracy };
    const seq = await outbox.add({ kind: 'patrol', label: `${say('checkin')} ${stop.name || stop.order}`,
      method: 'POST', url: patrolUrl(E.checkin), json: body, parent: current.id ? undefined : current.seq });
    current.checked.push(stop.order);
    await keep();
    drawStops();
    await outbox.flush();
    const refused = outbox.refused.find((r) => r.seq === seq);
    if (refused) {
      current.checked = current.checked.filter((order) => order !== stop.order);
      await keep();
      message(status, say('error', { detail: refused.detail }), 'error');
    } else {
      message(status, outbox.results.get(seq) ? say('checked_in_at', { stop: stop.name || stop.order })
        : say('queued_action', { action: say('checkin') }), outbox.results.get(seq) ? 'ok' : 'queued');
    }
    drawStops();
  }

  await readCurrent();
  await loadPlan();
  drawControls();
  watch();
}
