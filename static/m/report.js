// Report a case (事件上报): category, severity, description, photos (kind report), and the place:
// the phone's position with its accuracy, or the pin moved on the map. The grid of the place is shown before
// sending. The report goes through the outbox: sent at once with signal, kept on the phone without.

import { deskMap, el } from '../desk/common.js';
import { photoItems } from './ui.js';

const GEO = { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 };

export async function reportScreen(root, config, ui, outbox) {
  const { say, enumLabel, message } = ui;
  const category = el('select', { id: 'category', required: true },
    ...Object.entries(config.categories).map(([code, label]) => el('option', { value: code, text: label })));
  const severity = el('div', { className: 'm-choices', role: 'radiogroup' },
    ...config.severities.map((s, i) => el('label', { className: 'm-choice' },
      el('input', { type: 'radio', name: 'severity', value: s, checked: i === 0 }),
      el('span', { text: enumLabel('severity', s) }))));
  const description = el('textarea', { id: 'description', rows: 4, maxLength: 2000, required: true,
    placeholder: say('description_placeholder') });
  const photos = ui.photoPicker(say('photos', { n: config.max_photos }), config.max_photos);
  const mapBox = el('div', { className: 'm-map', id: 'map' });
  const where = el('p', { className: 'm-hint', id: 'where', text: say('locating') });
  const grid = el('p', { className: 'm-grid', id: 'grid', dataset: { code: '' } });
  const locate = el('button', { type: 'button', className: 'm-button m-secondary', id: 'locate', text: say('locate') });
  const send = el('button', { type: 'submit', className: 'm-button m-primary', id: 'send', text: say('send') });
  const status = el('p', { className: 'm-message', id: 'report-message', hidden: true, role: 'status' });
  const form = el('form', { className: 'm-form', id: 'report', noValidate: true },
    el('label', { className: 'm-field' }, el('span', { text: say('category') }), category),
    el('fieldset', { className: 'm-field' }, el('legend', { text: say('severity') }), severity),
    el('label', { className: 'm-field' }, el('span', { text: say('description') }), description),
    photos.node,
    el('fieldset', { className: 'm-field' }, el('legend', { text: say('location') }), mapBox, where,
      el('p', { className: 'm-label', text: say('grid') }), grid, locate,
      el('p', { className: 'm-hint', text: say('pin_hint') })),
    status, send);
  root.append(el('h1', { text: say('report') }), form);

  // The place: {lon, lat, accuracy (m) | null, source: 'gps' | 'pin'}.
  let place = null;
  const map = deskMap(mapBox, config, config.centre);
  const pin = L.marker([config.centre[1], config.centre[0]], { draggable: true, autoPan: true }).addTo(map);
  const spread = L.circle([config.centre[1], config.centre[0]], { radius: 0, weight: 1, interactive: false })
    .addTo(map); // how far the phone's position may be off

  let asked = 0;
  async function showGrid() {
    const mine = ++asked;
    grid.dataset.code = '';
    if (!place) { grid.textContent = ''; return; }
    if (!navigator.onLine) { grid.textContent = say('grid_offline'); return; }
    try {
      const query = new URLSearchParams({ lon: place.lon.toFixed(7), lat: place.lat.toFixed(7) });
      const resp = await fetch(`${config.endpoints.lookup}?${query}`, { credentials: 'same-origin',
        cache: 'no-store', headers: { Accept: 'application/json' } });
      if (mine !== asked) return;
      const answer = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        grid.textContent = say('no_grid');
        return;
      }
      const distance = answer.match === 'nearest' ? ` (${Math.round(answer.distance_m)} m)` : '';
      grid.textContent = answer.chain.map((g) => g.name || g.code).join(' › ') + distance;
      grid.dataset.code = answer.grid.code;
    } catch (error) {
      if (mine === asked) grid.textContent = say('grid_offline');
    }
  }

  function setPlace(next) {
    place = next;
    pin.setLatLng([next.lat, next.lon]);
    spread.setLatLng([next.lat, next.lon]).setRadius(next.accuracy || 0);
    where.textContent = next.source === 'gps' ? say('accuracy', { m: Math.round(next.accuracy) }) : say('pinned');
    where.dataset.source = next.source;
    showGrid();
  }

  function fromPhone() {
    where.textContent = say('locating');
    if (!navigator.geolocation) { where.textContent = say('no_location'); return; }
    navigator.geolocation.getCurrentPosition((pos) => {
      setPlace({ lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy, source: 'gps' });
      map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), config.map.zoom));
    }, (error) => { where.textContent = say('geo_failed', { detail: error.message || String(error.code) }); }, GEO);
  }

  pin.on('dragend', () => {
    const at = pin.getLatLng();
    setPlace({ lon: at.lng, lat: at.lat, accuracy: null, source: 'pin' });
  });
  map.on('click', (event) => setPlace({ lon: event.latlng.lng, lat: event.latlng.lat, accuracy: null, source: 'pin' }));
  locate.addEventListener('click', fromPhone);
  window.addEventListener('online', showGrid);
  fromPhone();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!description.value.trim()) { message(status, say('description_placeholder'), 'error'); description.focus(); return; }
    if (!place) { message(status, say('no_location'), 'error'); return; }
    send.disabled = true;
    const gridText = grid.textContent;
    const body = { category: category.value, severity: form.elements.severity.value,
      description: description.value.trim(), source: 'grid_worker',
      point: { lon: Number(place.lon.toFixed(7)), lat: Number(place.lat.toFixed(7)) },
      ...(place.source === 'gps' && place.accuracy !== null ? { accuracy_m: Math.round(place.accuracy * 10) / 10 }
        : {}) };
    const label = `${config.categories[body.category] || body.category} · ${body.description.slice(0, 20)}`;
    try {
      const seq = await outbox.add({ kind: 'report', label, method: 'POST', url: config.endpoints.report, json: body });
      for (const item of photoItems(photos.files(), config.endpoints.photos.replace('{id}', '{parent}'),
        'report', label, seq)) await outbox.add(item);
      await outbox.flush();
      const sent = outbox.results.get(seq);
      const refused = outbox.refused.find((r) => r.seq === seq);
      if (refused) {
        message(status, say('error', { detail: refused.detail }), 'error');
        send.disabled = false;
        return;
      }
      if (sent) message(status, say('sent', { grid: sent.properties.grid_code || gridText }), 'ok');
      else message(status, say('queued'), 'queued');
      form.dataset.sent = sent ? sent.id : 'queued';
      description.value = '';
      photos.clear();
      send.disabled = false;
    } catch (error) {
      message(status, say('error', { detail: error.message }), 'error');
      send.disabled = false;
    }
  });
}
