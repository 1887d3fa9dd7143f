// Grid worker assessment (网格员考核): fetch /api/assessment for the chosen month (and grid) and write each worker's
// row as text (a name is never read as markup), worst first as the server sorts them; a column's header sorts by
// it (again: the other way). A row opens the worker's month day by day: Tab to it and Enter, or a click. The
// download links carry the same query as CSV and Excel.

import { cell, sayer } from '../desk/common.js';

const body = document.body;
const words = JSON.parse(body.dataset.words);
const say = sayer(words);
const api = body.dataset.api;
const form = document.getElementById('period');
const month = document.getElementById('f-month');
const grid = document.getElementById('f-grid');
const tbody = document.querySelector('#workers tbody');
const status = document.getElementById('status');
const empty = document.getElementById('empty');
const panel = document.getElementById('person');
const GRADES = ['fail', 'basic', 'pass', 'excellent'];
const TONES = { fail: 'ms-red', basic: 'ms-yellow', pass: 'as-pass', excellent: 'ms-green' };
const state = { rows: [], sort: null, asked: 0, opened: null };

const rate = (part, whole) => (whole ? part / whole : null);
const SORT_KEYS = {
  name: (r) => r.name,
  grade: (r) => GRADES.indexOf(r.grade),
  score: (r) => r.score,
  reported: (r) => r.reported,
  handled: (r) => r.handled,
  reopened: (r) => r.reopened,
  satisfaction: (r) => rate(r.satisfied, r.followed_up),
  distance: (r) => r.distance_km,
  hours: (r) => r.patrol_hours,
  in_grid: (r) => r.in_grid_hours,
  stops: (r) => rate(r.stops_visited, r.stops_planned),
};

function percent(value) {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
}

function number(value, digits = 1) {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

function query(format) {
  const params = new URLSearchParams({ lang: body.dataset.lang });
  if (month.value) params.set('month', month.value);
  if (grid.value.trim()) params.set('grid', grid.value.trim());
  if (format) params.set('format', format);
  return `${api}?${params}`;
}

function sorted() {
  if (!state.sort) return state.rows; // the server's order: worst first
  const { col, dir } = state.sort;
  const key = SORT_KEYS[col];
  const order = (a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === y) return 0;
    if (x === null || x === undefined) return 1; // nothing to count: always last
    if (y === null || y === undefined) return -1;
    return (typeof x === 'string' ? x.localeCompare(y, body.dataset.lang) : x - y) * dir;
  };
  return [...state.rows].sort(order);
}

function row(item) {
  const tr = document.createElement('tr');
  tr.className = TONES[item.grade];
  tr.dataset.person = item.person;
  tr.tabIndex = 0;
  tr.title = words.open_hint;
  const name = cell(tr, item.name, 'as-name');
  const account = document.createElement('span');
  account.className = 'ms-code';
  account.textContent = item.grid_code ? `${item.person} · ${item.grid_code}` : item.person;
  name.appendChild(account);
  const badge = document.createElement('span');
  badge.className = `ms-badge ${TONES[item.grade]}`;
  badge.textContent = item.label;
  cell(tr, '').appendChild(badge);
  cell(tr, number(item.score), 'ms-num');
  cell(tr, String(item.reported), 'ms-num');
  cell(tr, `${item.handled} (${item.handled_on_time}/${item.handled_late})`, 'ms-num');
  cell(tr, String(item.reopened), 'ms-num');
  cell(tr, percent(rate(item.satisfied, item.followed_up)), 'ms-num');
  cell(tr, number(item.distance_km), 'ms-num');
  cell(tr, number(item.patrol_hours), 'ms-num');
  cell(tr, number(item.in_grid_hours), 'ms-num');
  cell(tr, item.stops_planned ? `${item.stops_visited}/${item.stops_planned}` : '–', 'ms-num');
  const list = document.createElement('ul');
  list.className = 'ms-reasons';
  for (const reason of item.reasons) {
    const li = document.createElement('li');
    li.textContent = reason.text;
    list.appendChild(li);
  }
  cell(tr, '').appendChild(list);
  tr.addEventListener('click', () => openPerson(item.person, tr));
  tr.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      openPerson(item.person, tr);
    }
  });
  return tr;
}

function draw() {
  const rows = sorted().map(row);
  tbody.replaceChildren(...rows);
  empty.hidden = rows.length > 0;
  for (const th of document.querySelectorAll('#workers th[data-sort]')) {
    const on = state.sort && state.sort.col === th.dataset.col;
    th.setAttribute('aria-sort', on ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

async function load() {
  const asked = ++state.asked;
  document.getElementById('csv').href = query('csv');
  document.getElementById('xlsx').href = query('xlsx');
  status.textContent = words.loading;
  try {
    const resp = await fetch(query(), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const answer = await resp.json();
    if (asked !== state.asked) return; // a later request has been made meanwhile
    if (!resp.ok) throw new Error(answer.detail || answer.title || String(resp.status));
    state.rows = answer.rows;
    draw();
    const day = (iso) => iso.slice(0, 10);
    const last = new Date(new Date(answer.until).getTime() - 1);
    status.textContent = say('period', { month: answer.month, since: day(answer.since), until: day(last.toISOString()) });
    document.documentElement.dataset.assessment = 'live';
  } catch (error) {
    if (asked !== state.asked) return;
    tbody.replaceChildren();
    status.textContent = say('failed', { detail: error.message });
    document.documentElement.dataset.assessment = 'failed';
  }
}

async function openPerson(person, from) {
  state.opened = from || null;
  const params = new URLSearchParams({ lang: body.dataset.lang });
  if (month.value) params.set('month', month.value);
  const title = document.getElementById('person-title');
  try {
    const resp = await fetch(`${api}/people/${encodeURIComponent(person)}?${params}`,
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const answer = await resp.json();
    if (!resp.ok) throw new Error(answer.detail || String(resp.status));
    const item = answer.row;
    title.textContent = `${say('days_title', { name: item.name, month: answer.month })} · ${item.label}`
      + (item.score === null ? '' : ` ${number(item.score)}`);
    const reasons = answer.row.reasons.map((r) => {
      const li = document.createElement('li');
      li.textContent = r.text;
      return li;
    });
    document.getElementById('person-reasons').replaceChildren(...reasons);
    const days = answer.days.map((d) => {
      const tr = document.createElement('tr');
      if (d.today) tr.className = 'as-today';
      cell(tr, d.today ? `${d.day} · ${words.today}` : d.day);
      cell(tr, String(d.fixes), 'ms-num');
      cell(tr, number(d.distance_km, 2), 'ms-num');
      cell(tr, number(d.patrol_hours, 2), 'ms-num');
      cell(tr, number(d.in_grid_hours, 2), 'ms-num');
      return tr;
    });
    document.querySelector('#days tbody').replaceChildren(...days);
    panel.hidden = false;
    panel.dataset.person = person;
    title.tabIndex = -1;
    title.focus();
  } catch (error) {
    status.textContent = say('failed', { detail: error.message });
  }
}

function closePerson() {
  panel.hidden = true;
  delete panel.dataset.person;
  if (state.opened && state.opened.isConnected) state.opened.focus();
}

for (const th of document.querySelectorAll('#workers th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    const col = th.dataset.col;
    const first = th.dataset.sort === 'text' ? 1 : -1; // names A→Z, figures highest first
    state.sort = state.sort && state.sort.col === col ? { col, dir: -state.sort.dir } : { col, dir: first };
    draw();
  });
}
document.getElementById('person-close').addEventListener('click', closePerson);
panel.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') closePerson();
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  closePerson();
  load();
});
const asked = new URLSearchParams(window.location.search);
if (asked.get('month')) month.value = asked.get('month');
if (asked.get('grid')) grid.value = asked.get('grid');
load().then(() => {
  if (asked.get('person')) openPerson(asked.get('person'));
});
