// Unit scorecards (单位考评): fetch /api/scorecards for the chosen grouping and period and write each row as text
// (a unit's name is never read as markup), worst first as the server sorts them; point the download links at the
// same query as CSV and Excel. A row opens the work desk's queue filtered to its unit (or street or community) and
// the period: its name is a link (Tab and Enter), and a click anywhere on the row follows it.

import { cell } from '../desk/common.js';

const body = document.body;
const words = JSON.parse(body.dataset.words);
const api = body.dataset.api;
const tabs = [...document.querySelectorAll('.ms-tab')];
const form = document.getElementById('period');
const since = document.getElementById('f-since');
const until = document.getElementById('f-until');
const tbody = document.querySelector('#cards tbody');
const status = document.getElementById('status');
const empty = document.getElementById('empty');
const state = { by: 'unit', asked: 0 };

// The desk's queue on this row's cases: the unit, or the street's or community's grid code, and the period (dates
// as picked: the desk's until is inclusive too); the overdue tab when some are open past due.
function deskUrl(item) {
  const url = new URL(body.dataset.desk, window.location.href);
  url.searchParams.set(state.by === 'unit' ? 'unit' : 'grid', item.key);
  if (since.value) url.searchParams.set('since', since.value);
  if (until.value) url.searchParams.set('until', until.value);
  if (item.overdue_open > 0) url.searchParams.set('tab', 'overdue');
  return url.pathname + url.search;
}

function query(format) {
  const params = new URLSearchParams({ by: state.by, lang: body.dataset.lang });
  if (since.value) params.set('since', since.value);
  if (until.value) params.set('until', until.value);
  if (format) params.set('format', format);
  return `${api}?${params}`;
}

function percent(value) {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
}

function draw(answer) {
  const rows = answer.rows.map((item) => {
    const tr = document.createElement('tr');
    tr.className = `ms-${item.colour}`;
    tr.dataset.key = item.key;
    const name = cell(tr, '');
    const link = document.createElement('a');
    link.className = 'ms-open';
    link.href = deskUrl(item);
    link.textContent = item.name;
    name.appendChild(link);
    tr.addEventListener('click', (event) => {
      if (!event.target.closest('a')) window.location.assign(link.href);
    });
    if (state.by !== 'unit') {
      const code = document.createElement('span');
      code.className = 'ms-code';
      code.textContent = item.key;
      name.appendChild(code);
    }
    const badge = document.createElement('span');
    badge.className = `ms-badge ms-${item.colour}`;
    badge.textContent = `${item.label} · ${item.action}`;
    cell(tr, '').appendChild(badge);
    cell(tr, String(item.cases), 'ms-num');
    cell(tr, percent(item.on_time_rate), 'ms-num');
    cell(tr, percent(item.closure_rate), 'ms-num');
    cell(tr, percent(item.satisfaction_rate), 'ms-num');
    cell(tr, String(item.returns), 'ms-num');
    cell(tr, String(item.reopen_count), 'ms-num');
    const list = document.createElement('ul');
    list.className = 'ms-reasons';
    for (const reason of item.reasons) {
      const li = document.createElement('li');
      li.className = `ms-${reason.colour}`;
      li.textContent = reason.text;
      list.appendChild(li);
    }
    cell(tr, '').appendChild(list);
    return tr;
  });
  tbody.replaceChildren(...rows);
  empty.hidden = rows.length > 0;
  const day = (iso) => iso.slice(0, 10);
  status.textContent = words.period.replace('{since}', since.value || day(answer.since))
    .replace('{until}', until.value || day(answer.until));
  document.documentElement.dataset.scorecards = 'live';
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
    draw(answer);
  } catch (error) {
    if (asked !== state.asked) return;
    tbody.replaceChildren();
    status.textContent = words.failed.replace('{detail}', error.message);
    document.documentElement.dataset.scorecards = 'failed';
  }
}

function choose(by) {
  state.by = by;
  for (const tab of tabs) tab.setAttribute('aria-selected', String(tab.dataset.by === by));
  const head = document.querySelector('#cards th[data-col="name"]');
  head.textContent = words[by];
  load();
}

for (const tab of tabs) tab.addEventListener('click', () => choose(tab.dataset.by));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
choose('unit');
