// Patrol (巡逻): the latest patrol planned for my grid with its stops; when the server keeps tracks, start and stop
// a patrol, my position sent every 30 s while it runs, and a check-in at each stop. Positions, starts, stops and
// check-ins go through the outbox like everything else, so a patrol without signal is sent when it returns.

import { el } from '../desk/common.js';
import { kvDelete, kvGet, kvSet } from './outbox.js';

const BATCH_MS = 30000;
const GEO = { enableHighAccuracy: true, timeout: 20000, maximumAge: 5000 };

export async function patrolScreen(root, config, ui, outbox) {
  const { say, when, message } = ui;
  const plan = el('section', { className: 'm-plan', id: 'plan' }, el('p', { className: 'm-hint', text: '…' }));
  const controls = el('div', { className: 'm-actions', id: 'patrol-controls' });
  const status = el('p', { className: 'm-message', id: 'patrol-message', hidden: true, role: 'status' });
  root.append(el('h1', { text: say('patrol') }), controls, status, el('h2', { text: say('patrol_plan') }), plan);

  const E = config.endpoints;
  const running = await kvGet('patrol'); // {seq, fixes} of the patrol started on this phone
  let current = running || null;
  let watch = null;
  let buffer = [];
  let stops = [];

  async function getJson(url) {
    const resp = await fetch(url, { credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' } });
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }

  async function loadPlan() {
    if (!navigator.onLine) { plan.replaceChildren(el('p', { className: 'm-hint', text: say('offline') })); return; }
    try {
      const listing = await getJson(`${E.plans}?limit=1`);
      if (!listing.plans.length) {
        plan.replaceChildren(el('p', { className: 'm-empty', text: say('no_plan') }));
        return;
      }
      const chosen = await getJson(E.plan.replace('{id}', encodeURIComponent(listing.plans[0].id)));
      stops = chosen.stops || [];
      plan.replaceChildren(
        el('p', { className: 'm-hint', text: [when(chosen.start_at), say('km', { km: (chosen.length_m / 1000)
          .toFixed(1) }), say('minutes', { n: Math.round(chosen.duration_min) })].join(' · ') }),
        el('h3', { text: say('stops') }),
        el('ol', { className: 'm-stops' }, ...stops.map((stop) => el('li', { dataset: { ref: stop.ref } },
          el('span', { text: `${stop.name || stop.ref} · ${when(stop.arrival_at)}` }),
          config.features.tracks && current ? el('button', { type: 'button', className: 'm-button m-secondary',
            text: say('checkin'), onClick: (event) => checkIn(stop, event.currentTarget) }) : null))));
    } catch (error) {
      plan.replaceChildren(el('p', { className: 'm-hint', text: say('error', { detail: error.message }) }));
    }
  }

  function fix(pos) {
    return { lon: pos.coords.longitude, lat: pos.coords.latitude, t: new Date(pos.timestamp).toISOString(),
      accuracy: pos.coords.accuracy };
  }

  async function sendFixes() {
    if (!buffer.length || !current) return;
    const fixes = buffer;
    buffer = [];
    current.fixes += fixes.length;
    await kvSet('patrol', current);
    await outbox.add({ kind: 'fixes', label: `${fixes.length}`, method: 'POST', url: E.positions, json: { fixes },
      parent: current.seq });
    drawControls();
    outbox.flush();
  }

  function track() {
    if (!navigator.geolocation || watch !== null) return;
    watch = navigator.geolocation.watchPosition((pos) => buffer.push(fix(pos)), () => {}, GEO);
    window.setInterval(sendFixes, BATCH_MS);
  }

  async function start() {
    const seq = await outbox.add({ kind: 'patrol', label: say('start'), method: 'POST', url: E.patrol_start,
      json: { t: new Date().toISOString() } });
    current = { seq, fixes: 0 };
    await kvSet('patrol', current);
    track();
    await outbox.flush();
    const started = outbox.results.get(seq);
    if (started) current.id = started.id;
    await kvSet('patrol', current);
    drawControls();
    loadPlan();
  }

  async function stop() {
    await sendFixes();
    const url = current.id ? E.patrol_stop.replace('{id}', encodeURIComponent(current.id))
      : E.patrol_stop.replace('{id}', '{parent}');
    await outbox.add({ kind: 'patrol', label: say('stop'), method: 'POST', url, parent: current.seq,
      json: { t: new Date().toISOString() } });
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    watch = null;
    current = null;
    await kvDelete('patrol');
    outbox.flush();
    drawControls();
    loadPlan();
  }

  function checkIn(stop, button) {
    navigator.geolocation.getCurrentPosition(async (pos) => {
      const url = current.id ? E.checkin.replace('{id}', encodeURIComponent(current.id))
        : E.checkin.replace('{id}', '{parent}');
      await outbox.add({ kind: 'patrol', label: `${say('checkin')} ${stop.name || stop.ref}`, method: 'POST', url,
        parent: current.seq, json: { stop: stop.ref, ...fix(pos) } });
      button.disabled = true;
      button.textContent = say('checked_in');
      outbox.flush();
    }, (error) => message(status, say('geo_failed', { detail: error.message }), 'error'), GEO);
  }

  function drawControls() {
    if (!config.features.tracks) {
      controls.replaceChildren(el('p', { className: 'm-hint', id: 'tracks-unavailable', text: say('unavailable') }));
      return;
    }
    controls.replaceChildren(current
      ? el('div', {}, el('p', { className: 'm-hint', text: say('running', { n: current.fixes }) }),
        el('button', { type: 'button', className: 'm-button m-danger', id: 'patrol-stop', text: say('stop'),
          onClick: stop }))
      : el('button', { type: 'button', className: 'm-button m-primary', id: 'patrol-start', text: say('start'),
        onClick: start }));
  }

  if (current && config.features.tracks) track();
  drawControls();
  await loadPlan();
}
