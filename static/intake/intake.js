// The hotline intake desk (12345 热线受理): find the caller's place, see its grid, open a case or link a repeat.
// Every text from the server or a report is written with textContent; nothing is parsed as HTML.

import { caller, csrfToken, deskMap, el, pageConfig, sayer } from '../desk/common.js';

const config = pageConfig();
const timeFormat = new Intl.DateTimeFormat(config.lang === 'en' ? 'en-GB' : 'zh-CN', {
  timeZone: config.timezone || undefined, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  hour12: false });
const csrf = csrfToken();
const W = config.words;
const root = config.root;

const say = sayer(W);
const call = caller(root);

// -- the page ---------------------------------------------------------------------------------------------------

const input = el('input', { id: 'q', type: 'search', placeholder: W.query_placeholder, autocomplete: 'off',
  spellcheck: false, 'aria-label': W.query_label });
const crs = el('select', { id: 'crs', 'aria-label': W.crs },
  ...['wgs84', 'gcj02', 'bd09', 'cgcs2000'].map((name) => el('option', { value: name, text: name.toUpperCase() })));
const message = el('p', { id: 'message', className: 'ms-message', role: 'status' });
const candidates = el('ul', { id: 'candidates', className: 'ms-candidates', role: 'listbox', 'aria-label': W.candidates });
const candidatesBox = el('section', { id: 'candidates-box', hidden: true },
  el('h2', { text: W.candidates }), el('p', { className: 'ms-hint', text: W.candidates_hint }), candidates);
const card = el('section', { id: 'card', className: 'ms-card', hidden: true });
const newCase = el('button', { id: 'new-case', type: 'button', text: W.new_case, hidden: true });
const category = el('select', { id: 'category', required: true },
  ...config.categories.map(([code, label]) => el('option', { value: code, text: label })));
const severity = el('select', { id: 'severity' },
  ...config.severities.map((code) => el('option', { value: code, text: W.enums.severity[code] || code })));
const description = el('textarea', { id: 'description', rows: 3, maxLength: 2000 });
const reporter = el('input', { id: 'reporter', type: 'tel', maxLength: 24, autocomplete: 'off' });
const address = el('input', { id: 'address', maxLength: 200, autocomplete: 'off' });
const duplicates = el('ul', { id: 'duplicates', className: 'ms-duplicates' });
const dupHint = el('p', { className: 'ms-hint' });
const save = el('button', { id: 'save', type: 'submit', text: W.save });
const field = (id, label, control) => el('div', { className: 'ms-field' }, el('label', { htmlFor: id, text: label }),
  control);
const caseForm = el('form', { id: 'case-form', className: 'ms-case', hidden: true },
  el('h2', { text: W.case_form }), field('category', W.category, category), field('severity', W.severity, severity),
  field('address', W.address, address), field('description', W.description, description),
  field('reporter', W.reporter, reporter),
  el('section', { id: 'duplicates-box' }, el('h3', { text: W.duplicates }), dupHint, duplicates),
  el('div', { className: 'ms-buttons' }, save,
    el('button', { type: 'button', text: W.cancel, onClick: () => { caseForm.hidden = true; } })));
const search = el('form', { id: 'search', className: 'ms-search' }, input, crs,
  el('button', { type: 'submit', text: W.resolve }));
const nav = el('nav', { className: 'ms-nav' },
  el('span', { className: 'ms-person', text: config.person.name }),
  el('a', { href: config.links.screen, text: W.to_screen }),
  el('a', { href: config.links.other_lang, text: W.other_lang }));
const mapBox = el('div', { id: 'map', 'aria-label': W.map_hint });
document.body.append(
  el('header', { className: 'ms-bar' }, el('p', { className: 'ms-brand', text: W.brand }),
    el('h1', { text: W.title }), nav),
  el('main', { className: 'ms-desk' },
    el('aside', { className: 'ms-panel' }, search, message, candidatesBox, card, newCase, caseForm), mapBox));

// -- the map ----------------------------------------------------------------------------------------------------

const map = deskMap(mapBox, config, config.map.center);
let marker = null;
let chosen = null; // { lon, lat, grid, address }
let idempotencyKey = null;

function show(text, kind = 'info') {
  message.textContent = text;
  message.dataset.kind = kind;
}

// -- the grid card ----------------------------------------------------------------------------------------------

function person(p) {
  return el('li', {}, el('span', { className: 'ms-role', text: W.enums.role[p.role] || p.role }),
    el('span', { className: 'ms-name', text: p.name }), el('a', { className: 'ms-phone', href: `tel:${p.phone}`,
      text: p.phone }), p.unit ? el('span', { className: 'ms-unit', text: p.unit }) : null);
}

function showCard(body, place) {
  const c = body.card;
  chosen = { lon: body.point.lon, lat: body.point.lat, grid: c.grid.code, address: place || '' };
  if (marker) marker.remove();
  marker = L.marker([chosen.lat, chosen.lon]).addTo(map);
  map.setView([chosen.lat, chosen.lon], Math.max(map.getZoom(), 16));
  const staff = c.staff.filter(Boolean);
  card.replaceChildren(
    el('h2', { text: W.card }),
    el('p', { className: 'ms-grid-name' }, el('strong', { text: c.grid.name }), ' ',
      el('code', { text: c.grid.code })),
    el('p', { className: 'ms-point', text: `${W.point} ${chosen.lon.toFixed(6)}, ${chosen.lat.toFixed(6)}` }),
    place ? el('p', { className: 'ms-place', text: place }) : null,
    el('h3', { text: W.chain }),
    el('ol', { className: 'ms-chain' }, ...c.chain.map((g) => el('li', {},
      el('span', { className: 'ms-level', text: W.levels[String(g.level)] || '' }), ' ', el('span', { text: g.name })))),
    el('h3', { text: W.staff }),
    staff.length ? el('ul', { className: 'ms-staff' }, ...staff.map(person)) : el('p', { text: W.no_staff }),
    el('h3', { text: W.liaison }),
    c.police_liaison ? el('ul', { className: 'ms-staff ms-liaison' }, person(c.police_liaison))
      : el('p', { text: W.no_staff }));
  card.hidden = false;
  newCase.hidden = false;
  caseForm.hidden = true;
}

// -- resolving --------------------------------------------------------------------------------------------------

function showCandidates(list) {
  candidates.replaceChildren(...list.map((c, i) => el('li', {
    role: 'option', tabIndex: i === 0 ? 0 : -1, 'aria-selected': 'false', dataset: { code: c.code },
    onClick: () => choose(c), onKeydown: (e) => onCandidateKey(e, c),
  }, el('span', { className: 'ms-text', text: c.text }),
  el('span', { className: 'ms-score', text: `${W.score} ${c.score}` }),
  el('span', { className: 'ms-code', text: c.grid_code || W.no_grid }))));
  candidatesBox.hidden = false;
  if (!list.length) show(W.no_candidates, 'warn');
  else candidates.firstChild.focus();
}

function onCandidateKey(event, c) {
  const item = event.currentTarget;
  const move = { ArrowDown: item.nextElementSibling, ArrowUp: item.previousElementSibling }[event.key];
  if (move) {
    event.preventDefault();
    item.tabIndex = -1;
    move.tabIndex = 0;
    move.focus();
  } else if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    choose(c);
  }
}

async function choose(c) {
  for (const li of candidates.children) li.setAttribute('aria-selected', 'false');
  await resolve(`${c.lon},${c.lat}`, c.text);
  candidatesBox.hidden = true;
}

async function resolve(q, place = '', system = 'wgs84') {
  show('');
  try {
    const body = await call('GET', '/api/intake/resolve', { params: { q, crs: system } });
    if (body.certain) {
      candidatesBox.hidden = true;
      showCard(body, place || body.address || '');
    } else {
      card.hidden = true;
      newCase.hidden = true;
      caseForm.hidden = true;
      showCandidates(body.candidates);
    }
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  }
}

search.addEventListener('submit', (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (q) resolve(q, '', crs.value);
});
map.on('click', (event) => resolve(`${event.latlng.lng.toFixed(7)},${event.latlng.lat.toFixed(7)}`));

// -- a new case, its possible duplicates, and linking -----------------------------------------------------------

function duplicateItem(f) {
  const p = f.properties;
  const note = el('input', { className: 'ms-link-note', maxLength: 500, placeholder: W.link_note,
    'aria-label': W.link_note });
  return el('li', { dataset: { id: f.id } },
    el('p', {}, el('strong', { text: W.enums.category[p.category] || p.category }), ' · ',
      el('span', { text: W.enums.status[p.status] || p.status }), ' · ',
      el('span', { text: say('distance', { m: Math.round(p.distance_m) }) })),
    el('p', { className: 'ms-desc', text: p.description || '' }),
    el('p', { className: 'ms-addr', text: `${p.address || ''} ${p.reported_at ? timeFormat.format(new Date(p.reported_at)) : ''}` }),
    note,
    el('button', { type: 'button', className: 'ms-link', text: W.link, onClick: () => link(f.id, note.value) }));
}

async function findDuplicates() {
  if (!chosen) return;
  const params = { lon: chosen.lon, lat: chosen.lat, category: category.value };
  try {
    const body = await call('GET', '/api/intake/duplicates', { params });
    dupHint.textContent = say('duplicates_hint', { hours: body.query.hours, radius: body.query.radius_m });
    duplicates.replaceChildren(...body.features.map(duplicateItem));
    if (!body.features.length) duplicates.append(el('li', { className: 'ms-none', text: W.no_duplicates }));
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  }
}

async function link(id, note) {
  try {
    const body = await call('POST', `/api/incidents/${encodeURIComponent(id)}/links`, {
      body: { note, phone: reporter.value.trim() }, headers: { 'X-CSRF-Token': csrf } });
    show(say('linked', { id: body.id, links: body.links }), 'done');
    caseForm.hidden = true;
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  }
}

newCase.addEventListener('click', () => {
  address.value = chosen.address;
  description.value = '';
  idempotencyKey = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  caseForm.hidden = false;
  findDuplicates();
  category.focus();
});
category.addEventListener('change', findDuplicates);

caseForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  save.disabled = true;
  try {
    const body = await call('POST', '/api/incidents', {
      body: { category: category.value, severity: severity.value, description: description.value,
        reporter: reporter.value.trim(), address: address.value.trim(), source: 'hotline',
        point: { lon: chosen.lon, lat: chosen.lat } },
      headers: { 'X-CSRF-Token': csrf, 'Idempotency-Key': idempotencyKey } });
    show(say('saved', { id: body.id }), 'done');
    caseForm.hidden = true;
  } catch (error) {
    show(say('error', { detail: error.message }), 'error');
  } finally {
    save.disabled = false;
  }
});

document.documentElement.dataset.desk = 'ready';
input.focus();
