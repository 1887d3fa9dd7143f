// The work desk (工单台): polls the queue every 2 s (an unchanged answer costs a 304 and no redraw), draws the
// tabs' counts and one page of cases. Every text that came from a report is written with textContent.

import { cell } from './common.js';

const POLL_MS = 2000;
const TYPING_MS = 300;
const body = document.body;
const words = JSON.parse(body.dataset.words);
const api = body.dataset.api;
const casesUrl = body.dataset.cases;
const zone = body.dataset.timezone || undefined;
const tabs = [...document.querySelectorAll('.ms-tab')];
const tbody = document.querySelector('#queue tbody');
const filterIds = ['category', 'severity', 'warning', 'grid', 'unit', 'source', 'since', 'until', 'q'];

const state = { tab: tabs[0].dataset.tab, page: 1, selected: 0, drawn: '', items: [], timer: null, pending: null };

const timeFormat = new Intl.DateTimeFormat(body.dataset.lang === 'zh' ? 'zh-CN' : 'en-GB', {
  timeZone: zone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });

function when(iso) {
  return iso ? timeFormat.format(new Date(iso)) : '';
}

function label(kind, value) {
  if (value === null || value === undefined) return '';
  const table = kind === 'category' ? words.categories : (words.enums[kind] || {});
  return table[value] || value;
}

function nextDay(text) {
  const day = new Date(`${text}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

// The tab and filters the page's address carries (e.g. a scorecard's row opens the queue on a unit or a grid and a
// period): written into the fields as they are; the queue's API refuses any it cannot read.
function fromAddress() {
  const asked = new URLSearchParams(window.location.search);
  for (const id of filterIds) {
    const value = asked.get(id);
    if (!value) continue;
    const field = document.getElementById(`f-${id}`);
    if (field.tagName === 'SELECT' && ![...field.options].some((option) => option.value === value)) {
      const option = document.createElement('option'); // a unit no longer configured still filters
      option.value = value;
      option.textContent = value;
      field.appendChild(option);
    }
    field.value = value;
  }
  const tab = tabs.find((t) => t.dataset.tab === asked.get('tab'));
  if (tab) state.tab = tab.dataset.tab;
}

function queueUrl() {
  const query = new URLSearchParams({ tab: state.tab });
  for (const id of filterIds) {
    const value = document.getElementById(`f-${id}`).value.trim();
    if (value) query.set(id, id === 'until' ? nextDay(value) : value); // the until date is inclusive on screen
  }
  if (state.page > 1) query.set('page', String(state.page));
  return `${api}?${query}`;
}

function drawRow(item, index) {
  const row = document.createElement('tr');
  row.dataset.id = item.id;
  row.dataset.index = String(index);
  if (item.warning === 'red') row.classList.add('ms-overdue');
  const idCell = cell(row, '');
  const link = document.createElement('a');
  link.href = casesUrl + encodeURIComponent(item.id);
  link.textContent = item.id.slice(0, 8);
  link.title = item.id;
  idCell.appendChild(link);
  cell(row, when(item.reported_at));
  cell(row, label('category', item.category));
  cell(row, label('severity', item.severity));
  const status = cell(row, label('status', item.status));
  if (item.dispatch_late) {
    const late = document.createElement('span');
    late.className = 'ms-late';
    late.textContent = words.dispatch_late;
    late.title = when(item.dispatch_due);
    status.appendChild(late);
  }
  const what = cell(row, '', 'ms-what');
  const desc = document.createElement('span');
  desc.className = 'ms-desc';
  desc.textContent = item.description;
  desc.title = item.description;
  const addr = document.createElement('span');
  addr.className = 'ms-addr';
  addr.textContent = item.address;
  what.append(desc, addr);
  cell(row, item.grid_code || '');
  cell(row, item.unit || '');
  cell(row, state.tab === 'closed_today' ? when(item.closed_at) : when(item.due_at));
  const warning = cell(row, '');
  if (item.warning) {
    const badge = document.createElement('span');
    badge.className = `ms-warning ms-warning-${item.warning}`;
    badge.textContent = label('warning', item.warning);
    warning.appendChild(badge);
  }
  row.addEventListener('click', (event) => {
    if (event.target.closest('a')) return;
    select(index);
  });
  row.addEventListener('dblclick', () => open(index));
  return row;
}

function draw(answer) {
  for (const [key, n] of Object.entries(answer.counts)) {
    const slot = document.querySelector(`[data-count="${key}"]`);
    if (slot) slot.textContent = String(n);
  }
  const keep = state.items[state.selected] && state.items[state.selected].id;
  state.items = answer.items;
  const found = answer.items.findIndex((item) => item.id === keep);
  state.selected = found >= 0 ? found : Math.min(state.selected, Math.max(0, answer.items.length - 1));
  tbody.replaceChildren(...answer.items.map(drawRow));
  document.getElementById('empty').hidden = answer.items.length > 0;
  document.getElementById('page-of').textContent = words.page.replace('{page}', answer.page)
    .replace('{pages}', answer.pages);
  document.getElementById('prev').disabled = answer.page <= 1;
  document.getElementById('next').disabled = answer.page >= answer.pages;
  markSelected(false);
}

function markSelected(scroll) {
  for (const row of tbody.children) row.classList.toggle('ms-selected', Number(row.dataset.index) === state.selected);
  const row = tbody.children[state.selected];
  if (row && scroll) row.scrollIntoView({ block: 'nearest' });
}

function select(index) {
  if (!state.items.length) return;
  state.selected = Math.max(0, Math.min(state.items.length - 1, index));
  markSelected(true);
}

function open(index) {
  const item = state.items[index];
  if (item) window.location.assign(casesUrl + encodeURIComponent(item.id));
}

async function poll() {
  clearTimeout(state.timer);
  const url = queueUrl();
  try {
    // The browser's cache revalidates with If-None-Match (no-cache): an unchanged answer is a 304 on the wire.
    const resp = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin',
      cache: 'no-cache' });
    if (resp.status === 401) {
      window.location.reload(); // the session ended: the page sends the browser to log in, and back
      return;
    }
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const tag = `${url} ${resp.headers.get('ETag')}`;
    if (url === queueUrl() && tag !== state.drawn) {
      draw(await resp.json());
      state.drawn = tag;
    }
    document.getElementById('offline').hidden = true;
    document.getElementById('updated').textContent = `${words.updated} ${new Date().toLocaleTimeString('en-GB', {
      timeZone: zone, hour12: false })}`;
    document.documentElement.dataset.desk = 'live';
  } catch (error) {
    document.getElementById('offline').hidden = false;
  }
  state.timer = setTimeout(poll, POLL_MS);
}

function showTab(key) {
  state.tab = key;
  state.page = 1;
  state.selected = 0;
  for (const tab of tabs) tab.setAttribute('aria-selected', String(tab.dataset.tab === key));
  document.querySelector('#queue th:nth-child(9)').textContent = key === 'closed_today' ? words.closed_at
    : words.due_at;
  poll();
}

function refilter() {
  state.page = 1;
  state.selected = 0;
  poll();
}

for (const tab of tabs) tab.addEventListener('click', () => showTab(tab.dataset.tab));
for (const id of filterIds) {
  const field = document.getElementById(`f-${id}`);
  if (field.tagName === 'SELECT' || field.type === 'date') field.addEventListener('change', refilter);
  else field.addEventListener('input', () => {
    clearTimeout(state.pending);
    state.pending = setTimeout(refilter, TYPING_MS);
  });
}
document.getElementById('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  refilter();
});
document.getElementById('f-clear').addEventListener('click', () => {
  for (const id of filterIds) document.getElementById(`f-${id}`).value = '';
  refilter();
});
document.getElementById('prev').addEventListener('click', () => {
  state.page = Math.max(1, state.page - 1);
  poll();
});
document.getElementById('next').addEventListener('click', () => {
  state.page += 1;
  poll();
});

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest('input, select, textarea');
  if (typing) {
    if (event.key === 'Escape') event.target.blur();
    return;
  }
  if (/^[1-7]$/.test(event.key) && tabs[Number(event.key) - 1]) {
    showTab(tabs[Number(event.key) - 1].dataset.tab);
  } else if (event.key === '/') {
    document.getElementById('f-q').focus();
  } else if (event.key === 'j') {
    select(state.selected + 1);
  } else if (event.key === 'k') {
    select(state.selected - 1);
  } else if (event.key === 'Enter' && !event.target.closest('a, button')) {
    open(state.selected);
  } else {
    return;
  }
  event.preventDefault();
});

fromAddress();
showTab(state.tab);
