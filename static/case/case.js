// The work desk's case page (工单详情): the case on a map with its grid and the cameras that see it, its facts,
// follow-up, whistle and timeline, and the actions this person may take now. Polls the case every 2 s (an
// unchanged case costs a 304). Every text from the server is written with textContent; nothing is parsed as HTML.

import { caller, csrfToken, deskMap, el, pageConfig, Refused, sayer } from '../desk/common.js';
import { deskLiveLayer } from '../desk/positions.js';
import { videoPanel } from '../video/player.js';

const config = pageConfig();
const csrf = csrfToken();
const W = config.words;
const root = config.root;
const caseUrl = `${root}/api/incidents/${encodeURIComponent(config.id)}`;
const POLL_MS = 2000;
const say = sayer(W);
const call = caller(root);

const timeFormat = new Intl.DateTimeFormat(config.lang === 'zh' ? 'zh-CN' : 'en-GB', {
  timeZone: config.timezone || undefined, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
  minute: '2-digit', hour12: false });

function when(iso) {
  return iso ? timeFormat.format(new Date(iso)) : W.none;
}

function label(kind, value) {
  if (value === null || value === undefined || value === '') return W.none;
  return (W.enums[kind] || {})[value] || value;
}

const actionName = (name) => W.action_names[name] || name;
const joined = (items) => items.join(W.list_sep);
const refusal = sayer(W.refusals);

// A refusal in the page's language, from the problem's `reason` and facts; null for one the page has no words
// for (the server's English detail is shown then).
function explain(problem) {
  const p = problem || {};
  const status = label('status', p.current_status);
  switch (p.reason) {
    case 'changed_meanwhile':
      return p.acted_by ? refusal('changed_meanwhile', { by: p.acted_by, at: when(p.acted_at),
        done: actionName(p.last_action), status }) : refusal('changed_meanwhile_plain', { status });
    case 'not_allowed_now':
      return refusal('not_allowed_now', { status, action: actionName(p.action),
        allowed: (p.allowed || []).length ? joined(p.allowed.map(actionName)) : W.refusals.nothing_allowed });
    case 'role_may_not':
      return refusal('role_may_not', { action: actionName(p.action),
        roles: joined((p.roles || []).map((r) => config.roles[r] || r)), role: config.roles[p.role] || p.role });
    case 'unit_unknown':
      return (p.near || []).length ? refusal('unit_unknown_near', { unit: p.unit, near: joined(p.near) })
        : refusal('unit_unknown', { unit: p.unit });
    case 'not_called_out':
      return refusal('not_called_out', { unit: p.unit, pending: joined(p.pending || []) });
    case 'reported_in_already':
      return refusal('reported_in_already', { unit: p.unit, at: when(p.reported_at) });
    case 'unknown_action': case 'unit_required':
      return refusal(p.reason, { action: actionName(p.action) });
    default:
      return p.reason && W.refusals[p.reason] ? refusal(p.reason, p) : null;
  }
}

// -- the page ---------------------------------------------------------------------------------------------------

const message = el('p', { id: 'message', className: 'ms-message', role: 'status', 'aria-live': 'polite' });
const facts = el('dl', { id: 'facts', className: 'ms-facts' });
const actions = el('div', { id: 'actions', className: 'ms-actions' });
const form = el('form', { id: 'action-form', className: 'ms-form', hidden: true, noValidate: true });
const card = el('section', { id: 'card', className: 'ms-box' });
const cameraList = el('section', { id: 'cameras', className: 'ms-box' }, el('h2', { text: W.cameras }));
const followUp = el('section', { id: 'follow-up', className: 'ms-box' });
const whistle = el('section', { id: 'whistle', className: 'ms-box' });
const timeline = el('ol', { id: 'timeline', className: 'ms-timeline' });
const photoBox = el('section', { id: 'photos', className: 'ms-box' }, el('h2', { text: W.photos }));
const updated = el('span', { id: 'updated' });
const offline = el('span', { id: 'offline', hidden: true, text: W.offline });
const mapBox = el('div', { id: 'map' });
const heading = el('h1', { text: `${W.title} ${config.id.slice(0, 8)}` });

document.body.append(
  el('header', { className: 'ms-bar' },
    el('div', { className: 'ms-titles' }, el('p', { className: 'ms-brand', text: W.brand }), heading),
    el('p', { className: 'ms-who' }, el('span', { text: config.person.name }),
      el('span', { className: 'ms-muted', text: config.person.role_label })),
    el('nav', { className: 'ms-links' }, el('a', { id: 'to-desk', href: config.links.desk, text: W.to_desk }),
      el('a', { href: config.links.screen, text: W.to_screen }),
      el('a', { href: config.links.other_lang, text: W.other_lang })),
    el('p', { className: 'ms-status' }, updated, offline)),
  el('main', { className: 'ms-main' },
    el('aside', { className: 'ms-left' },
      el('section', { className: 'ms-box' }, el('h2', { text: W.facts }), facts),
      el('section', { className: 'ms-box' }, el('h2', { text: W.actions }), actions, form, message)),
    mapBox,
    el('aside', { className: 'ms-right' }, card, photoBox, cameraList, whistle, followUp,
      el('section', { className: 'ms-box' }, el('h2', { text: W.timeline }), timeline))));

// -- the map ----------------------------------------------------------------------------------------------------

const [lon, lat] = config.point;
const map = deskMap(mapBox, config, config.point, { keyboard: false });
if (config.outline) {
  const outline = L.geoJSON(config.outline, { style: { color: '#4fc3f7', weight: 2, fillOpacity: 0.06 } }).addTo(map);
  map.fitBounds(outline.getBounds(), { maxZoom: config.map.zoom, padding: [20, 20] });
}
L.circleMarker([lat, lon], { radius: 9, color: '#ff5252', weight: 3, fillColor: '#ff5252', fillOpacity: 0.6 })
  .addTo(map);

// The people on patrol near the case (those of this desk's jurisdiction the map shows), with a key and a count.
if (config.live) deskLiveLayer(map, config.root, config.live);

// -- the grid card ----------------------------------------------------------------------------------------------

function person(p) {
  return el('li', {}, el('span', { className: 'ms-muted', text: W.enums.role[p.role] || p.role }), ' ',
    el('span', { text: p.name }), ' ', el('a', { href: `tel:${p.phone}`, text: p.phone }),
    p.unit ? el('span', { className: 'ms-muted', text: ` ${p.unit}` }) : null);
}

function drawCard() {
  const c = config.card;
  card.replaceChildren(el('h2', { text: W.card }));
  if (!c) return;
  const staff = c.staff.filter(Boolean);
  card.append(
    el('p', {}, el('strong', { text: c.grid.name }), ' ', el('code', { text: c.grid.code })),
    el('ol', { className: 'ms-chain' }, ...c.chain.map((g) => el('li', {},
      el('span', { className: 'ms-muted', text: `${W.levels[String(g.level)] || ''} ` }), el('span', { text: g.name })))),
    el('h3', { text: W.staff }),
    staff.length ? el('ul', { className: 'ms-people' }, ...staff.map(person)) : el('p', { text: W.no_staff }),
    el('h3', { text: W.liaison }),
    c.police_liaison ? el('ul', { className: 'ms-people' }, person(c.police_liaison)) : el('p', { text: W.no_staff }));
}

// -- requests ---------------------------------------------------------------------------------------------------

function send(action, body) {
  return call('POST', `/api/incidents/${encodeURIComponent(config.id)}/transitions`,
    { body: { action, ...body }, headers: { 'X-CSRF-Token': csrf } });
}

async function loadCameras() {
  try {
    const resp = await fetch(`${caseUrl}/cameras`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!resp.ok) return;
    drawCameras(await resp.json());
  } catch (error) {
    // the cameras are an aid: the case works without them
  }
}

// The camera's live video, one click away, for those with video rights and cameras with a stream.
function playable(c) {
  return Boolean(config.video && c.video);
}

function watch(c) {
  videoPanel(config.video).open({ code: c.code, name: c.name });
}

function cameraItem(c) {
  return el('li', { dataset: { code: c.code, covers: String(c.covers) } },
    el('span', { className: `ms-dot ms-${c.status}`, text: label('camera_status', c.status) }), ' ',
    el('span', { text: c.name }), ' ', el('span', { className: 'ms-muted', text: say('distance', { m: c.distance_m }) }),
    playable(c) ? el('button', { type: 'button', className: 'ms-play', text: config.video.words.play,
      dataset: { play: c.code }, onClick: () => watch(c) }) : null);
}

// The cameras whose view covers the case (online first, nearest first), then the online ones near it that do not.
function drawCameras(answer) {
  const list = [...answer.covering, ...answer.nearby];
  cameraList.replaceChildren(el('h2', { text: W.cameras }));
  if (!list.length) {
    cameraList.append(el('p', { className: 'ms-muted', text: W.no_cameras }));
    return;
  }
  if (answer.covering.length) {
    cameraList.append(el('p', { className: 'ms-muted', text: W.covering }),
      el('ul', { className: 'ms-cams', id: 'cameras-covering' }, ...answer.covering.map(cameraItem)));
  }
  if (answer.nearby.length) {
    cameraList.append(el('p', { className: 'ms-muted', text: say('nearby', { m: answer.nearby_m }) }),
      el('ul', { className: 'ms-cams', id: 'cameras-nearby' }, ...answer.nearby.map(cameraItem)));
  }
  for (const c of list) {
    const online = c.status === 'online';
    L.geoJSON(c.view, { style: { color: online ? '#00e676' : '#7f9bb8', weight: 1, fillOpacity: 0.15 } }).addTo(map);
    const marker = L.circleMarker([c.lat, c.lon], { radius: 5, color: online ? '#00e676' : '#7f9bb8', fillOpacity: 0.9 })
      .bindTooltip(el('span', { text: c.name })).addTo(map); // a node, not a string: Leaflet writes strings as HTML
    if (playable(c)) marker.on('click', () => watch(c));
  }
}

// -- the case ---------------------------------------------------------------------------------------------------

const state = { incident: null, etag: '', timer: null, form: null };

function fact(name, value, extra = {}) {
  return [el('dt', { text: W[name] }), el('dd', { dataset: { fact: name }, ...extra, text: value })];
}

function drawFacts(p) {
  facts.replaceChildren(
    ...fact('status', label('status', p.status)),
    ...fact('warning', label('warning', p.warning), { className: `ms-warn-${p.warning}` }),
    ...fact('category', label('category', p.category)),
    ...fact('severity', label('severity', p.severity)),
    ...fact('due_at', when(p.due_at)),
    ...fact('unit', p.unit || W.none),
    ...fact('source', W.sources[p.source] || p.source),
    ...fact('reported_at', when(p.reported_at)),
    ...fact('address', p.address || W.none),
    ...fact('description', p.description || W.none),
    ...fact('version', String(p.version)));
}

function drawActions(p) {
  const mine = p.my_actions || [];
  actions.replaceChildren(...(mine.length ? mine.map((name) => el('button', {
    type: 'button', className: 'ms-act', id: `act-${name}`, dataset: { action: name }, text: actionName(name),
    onClick: () => openForm(name),
  })) : [el('p', { className: 'ms-muted', text: W.no_actions })]));
  if (state.form && !mine.includes(state.form.action)) closeForm();
}

function drawFollowUp(p) {
  const f = p.follow_up;
  followUp.replaceChildren(el('h2', { text: W.follow_up }));
  // Shown once a case has closed at least once: before that there is nothing to follow up.
  followUp.hidden = !f || !(f.due || f.followed_up_at || f.reopen_count || p.status === 'closed');
  if (followUp.hidden) return;
  followUp.append(...[
    f.due ? el('p', { className: 'ms-due', text: W.follow_up_due }) : null,
    f.followed_up_at ? el('p', {}, el('span', {
      text: `${W.satisfaction}: ${W.satisfactions[f.satisfaction] || f.satisfaction}` }),
    el('span', { className: 'ms-muted', text: ` ${when(f.followed_up_at)}` }))
      : el('p', { className: 'ms-muted', text: W.not_followed }),
    f.comment ? el('p', { text: f.comment }) : null,
    f.reopen_count ? el('p', { className: 'ms-muted', text: say('reopens', { n: f.reopen_count }) }) : null,
  ].filter(Boolean));
}

function drawWhistle(p) {
  const w = p.whistle;
  whistle.replaceChildren(el('h2', { text: W.whistle }));
  whistle.hidden = !w || !w.departments.length;
  if (whistle.hidden) return;
  whistle.append(el('ul', { className: 'ms-departments' }, ...w.departments.map((d) => el('li', {
    dataset: { state: d.reported_at ? 'reported' : (d.overdue ? 'overdue' : 'pending') } },
  el('span', { text: d.department }), ' ',
  el('span', { className: 'ms-tag', text: d.reported_at ? W.reported : (d.overdue ? W.overdue : W.pending) }), ' ',
  el('span', { className: 'ms-muted', text: d.reported_at ? when(d.reported_at) : `${W.report_by} ${when(d.report_by)}` })))));
}

// A photo: its thumbnail, a link that opens the full image (both from this server by the photo's hash; the URLs
// come with the script root).
function thumbnail(photo) {
  const kind = W.photo_kinds[photo.kind] || photo.kind;
  return el('a', { className: 'ms-photo', href: photo.url, target: '_blank', rel: 'noopener',
    title: `${W.photo_open} · ${kind} · ${photo.uploaded_by} ${when(photo.uploaded_at)}`,
    dataset: { sha256: photo.sha256, kind: photo.kind } },
  el('img', { src: photo.thumb_url, alt: kind, loading: 'lazy', decoding: 'async' }));
}

function drawPhotos(p) {
  const photos = p.photos || [];
  photoBox.replaceChildren(el('h2', { text: W.photos }), photos.length
    ? el('div', { className: 'ms-photos' }, ...photos.map(thumbnail))
    : el('p', { className: 'ms-muted', text: W.no_photos }));
}

function drawTimeline(p) {
  const photos = p.photos || [];
  timeline.replaceChildren(...[...p.timeline].reverse().map((e) => el('li', { dataset: { seq: String(e.seq) } },
    el('span', { className: 'ms-muted', text: when(e.at) }), ' ',
    el('strong', { className: 'ms-step', text: actionName(e.action) }), ' ',
    el('span', { text: e.actor }),
    e.to ? el('span', { className: 'ms-muted', text: ` → ${label('status', e.to)}` }) : null,
    e.unit ? el('span', { text: ` · ${e.unit}` }) : null,
    e.satisfaction ? el('span', { text: ` · ${W.satisfactions[e.satisfaction] || e.satisfaction}` }) : null,
    e.note ? el('p', { className: 'ms-note', text: e.note }) : null,
    ...entryPhotos(photos, e))));
}

function entryPhotos(photos, entry) {
  const mine = photos.filter((photo) => photo.event === entry.seq);
  return mine.length ? [el('div', { className: 'ms-photos' }, ...mine.map(thumbnail))] : [];
}

function draw(feature) {
  const p = feature.properties;
  state.incident = p;
  document.title = `${W.title} ${p.id.slice(0, 8)} · ${label('status', p.status)}`;
  drawFacts(p);
  drawActions(p);
  drawFollowUp(p);
  drawWhistle(p);
  drawPhotos(p);
  drawTimeline(p);
  document.documentElement.dataset.version = String(p.version);
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    // The browser's cache revalidates with If-None-Match (no-cache): an unchanged case is a 304 on the wire.
    const resp = await fetch(caseUrl, { credentials: 'same-origin', cache: 'no-cache',
      headers: { Accept: 'application/json' } });
    if (resp.status === 401) {
      window.location.reload();
      return;
    }
    if (resp.status === 404) {
      show(W.not_found, 'bad');
      actions.replaceChildren();
      closeForm();
      return; // gone from this person's reach: stop asking
    }
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const tag = resp.headers.get('ETag') || '';
    if (tag !== state.etag || !state.incident) {
      const before = state.incident ? state.incident.version : null;
      draw(await resp.json());
      state.etag = tag;
      if (before !== null && before !== state.incident.version && !message.textContent) show(W.changed);
    }
    offline.hidden = true;
    updated.textContent = `${W.updated} ${new Date().toLocaleTimeString('en-GB', {
      timeZone: config.timezone || undefined, hour12: false })}`;
    document.documentElement.dataset.case = 'live';
  } catch (error) {
    offline.hidden = false;
  }
  state.timer = setTimeout(refresh, POLL_MS);
}

function show(text, kind = 'info') {
  message.textContent = text;
  message.dataset.kind = kind;
}

// -- the action forms -------------------------------------------------------------------------------------------

function field(id, text, control) {
  return el('div', { className: 'ms-field' }, el('label', { htmlFor: id, text }), control);
}

function unitControl() {
  if (config.units.length) {
    return el('select', { id: 'f-unit', required: true }, el('option', { value: '', text: W.none }),
      ...config.units.map((u) => el('option', { value: u, text: u })));
  }
  return el('input', { id: 'f-unit', type: 'text', maxLength: 200, required: true, autocomplete: 'off' });
}

const textarea = (id, required = false) => el('textarea', { id, rows: 2, maxLength: 1000, required });

function fieldsFor(action, p) {
  switch (action) {
    case 'dispatch': case 'grab': case 'split': case 'joint':
      return [field('f-unit', W.unit, unitControl()), field('f-note', W.note, textarea('f-note'))];
    case 'return': case 'reject':
      return [field('f-note', W.reason, textarea('f-note', true))];
    case 'handle':
      return [field('f-note', W.result, textarea('f-note', true))];
    case 'whistle':
      return [field('f-level', W.level, el('select', { id: 'f-level' },
        ...Object.entries(W.whistle_levels).map(([k, v]) => el('option', { value: k, text: v })))),
      field('f-departments', `${W.departments} (${W.departments_hint})`, textarea('f-departments')),
      field('f-report-by', W.report_by, el('input', { id: 'f-report-by', type: 'datetime-local' })),
      field('f-note', W.note, textarea('f-note'))];
    case 'report_in':
      return [field('f-unit', W.department, el('select', { id: 'f-unit', required: true },
        ...p.whistle.pending.map((d) => el('option', { value: d, text: d }))))];
    case 'follow_up':
      return [field('f-satisfaction', W.satisfaction, el('select', { id: 'f-satisfaction' },
        ...Object.entries(W.satisfactions).map(([k, v]) => el('option', { value: k, text: v })))),
      field('f-comment', W.comment, textarea('f-comment'))];
    default:
      return [field('f-note', W.note, textarea('f-note'))];
  }
}

function value(id) {
  const node = form.querySelector(`#${id}`);
  return node ? node.value.trim() : '';
}

function bodyFor(action) {
  const body = { version: state.form.version };
  const unit = value('f-unit');
  const note = value('f-note');
  if (unit) body.unit = unit;
  if (note) body.note = note;
  if (action === 'whistle') {
    body.level = value('f-level');
    const departments = value('f-departments').split('\n').map((d) => d.trim()).filter(Boolean);
    if (departments.length) {
      body.departments = departments;
      const by = value('f-report-by');
      if (by) body.report_by = new Date(by).toISOString();
    }
  }
  if (action === 'follow_up') {
    body.satisfaction = value('f-satisfaction');
    const comment = value('f-comment');
    if (comment) body.comment = comment;
  }
  return body;
}

function openForm(action) {
  const p = state.incident;
  // The version the person saw when they chose: a case moved meanwhile is refused with the server's reason.
  state.form = { action, version: p.version, opener: document.getElementById(`act-${action}`) };
  form.replaceChildren(el('h3', { text: actionName(action) }), ...fieldsFor(action, p),
    el('div', { className: 'ms-buttons' }, el('button', { type: 'submit', id: 'f-submit', text: W.submit }),
      el('button', { type: 'button', id: 'f-cancel', text: W.cancel, onClick: closeForm })));
  form.dataset.action = action;
  form.hidden = false;
  show('');
  const first = form.querySelector('select, input, textarea');
  (first || form.querySelector('#f-submit')).focus();
}

function closeForm() {
  const opener = state.form && state.form.opener;
  state.form = null;
  form.hidden = true;
  form.replaceChildren();
  if (opener && opener.isConnected) opener.focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!state.form) return;
  const missing = [...form.querySelectorAll('[required]')].find((node) => !node.value.trim());
  if (missing) {
    missing.focus();
    return;
  }
  const { action } = state.form;
  const submit = form.querySelector('#f-submit');
  submit.disabled = true;
  try {
    await send(action, bodyFor(action));
    closeForm();
    show(say('saved', { action: actionName(action) }), 'good');
  } catch (error) {
    const words = error instanceof Refused ? explain(error.problem) : null;
    if (error instanceof Refused && error.status === 409) {
      closeForm();
      show(words || say('conflict', { detail: error.message }), 'warn');
    } else {
      submit.disabled = false;
      show(words || say('error', { detail: error.message }), 'bad');
      return;
    }
  }
  state.etag = '';
  await refresh();
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.form) {
    event.preventDefault();
    closeForm();
  }
});

drawCard();
refresh();
loadCameras();
