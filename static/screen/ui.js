// The frame around the map: top bar (title, window switch, search, clock, live status), measures panel, legend.

import { ROLE_COLOURS } from '../desk/positions.js';
import { el, fmt, percent, replace } from './dom.js';

const WINDOWS = ['today', '7d', '30d'];

function tile(key, words) {
  const value = el('div', { className: 'ms-value' }, '—');
  const note = el('div', { className: 'ms-note' });
  const node = el('div', { className: 'ms-tile', dataset: { measure: key } }, el('div', { className: 'ms-label' },
    words[`m_${key}`]), value, note);
  return { node, value, note };
}

/** Build the frame into #screen-ui; return the handles the rest of the page updates. */
export function buildFrame(cfg, { onWindow, onGrid }) {
  const w = cfg.words;
  const root = document.getElementById('screen-ui');
  const buttons = WINDOWS.map((name) => el('button', {
    type: 'button', className: 'ms-window', dataset: { window: name }, onClick: () => onWindow(name),
  }, w[`window_${name}`]));
  const clock = el('span', { className: 'ms-clock' });
  const status = el('span', { className: 'ms-status', dataset: { state: 'loading' } });
  const search = el('div', { className: 'ms-search-slot' });
  // A wall of one jurisdiction says whose it is after the brand (as text: a grid's name is data).
  const area = cfg.jurisdiction
    ? el('span', { className: 'ms-jurisdiction', dataset: { code: cfg.jurisdiction.code } },
      ` · ${cfg.jurisdiction.name}`)
    : null;
  const bar = el('header', { className: 'ms-bar' }, el('h1', { className: 'ms-brand' }, w.brand, area),
    el('nav', { className: 'ms-windows' }, buttons), search, el('div', { className: 'ms-live' }, status, clock),
    cfg.person ? person(cfg.person, w) : null);

  const tiles = Object.fromEntries(['reports', 'open', 'overdue', 'closure_rate', 'on_time_rate',
    'camera_online_rate'].map((key) => [key, tile(key, w)]));
  const levels = el('dl', { className: 'ms-levels' });
  const hottest = el('div', { className: 'ms-hottest' }, el('p', { className: 'ms-pending' }, `— ${w.pending}`));
  const notices = el('div', { className: 'ms-notices', role: 'status' });
  const panel = el('aside', { className: 'ms-panel ms-measures' }, el('h2', {}, w.measures),
    el('div', { className: 'ms-tiles' }, Object.values(tiles).map((t) => t.node)),
    el('h3', {}, w.m_grids), levels, el('h3', {}, w.m_hottest_grids), hottest, legend(cfg), notices);
  const banner = el('div', { className: 'ms-banner', hidden: true });
  replace(root, bar, panel, banner);
  return { root, buttons, clock, status, search, tiles, levels, hottest, notices, banner, onGrid, words: w };
}

/** Who is logged in (a person, not a wall's token): name, role and jurisdiction as text, their links, and the
 *  logout button (a form posting the session's CSRF token: a GET never logs out). */
function person(who, w) {
  const links = who.links;
  const logout = el('form', { className: 'ms-logout', method: 'post', action: links.logout },
    el('input', { type: 'hidden', name: 'csrf_token', value: who.csrf_token }),
    el('button', { type: 'submit' }, w.logout));
  return el('div', { className: 'ms-person' },
    el('div', { className: 'ms-who' }, el('span', { className: 'ms-person-name' }, who.name),
      el('span', { className: 'ms-person-role' }, `${who.role} · ${who.area}`)),
    el('nav', { className: 'ms-person-links' }, el('a', { href: links.password }, w.change_password),
      links.admin ? el('a', { href: links.admin, className: 'ms-admin-link' }, w.admin_accounts) : null, logout));
}

/** Colour keys for what is on the map: incident warnings, cameras, key places. */
function legend(cfg) {
  const w = cfg.words;
  const items = [];
  const incidents = cfg.layers.find((l) => l.renderer === 'incidents');
  if (incidents) {
    for (const [warning, colour] of Object.entries(incidents.style.warning_colors)) {
      items.push([colour, `${w.incident} · ${w.enums.warning[warning] || warning}`]);
    }
    items.push([incidents.style.status_colors.closed, `${w.incident} · ${w.enums.status.closed}`]);
  }
  const cameras = cfg.layers.find((l) => l.renderer === 'cameras');
  if (cameras) {
    for (const status of ['online', 'offline']) {
      items.push([cameras.style.status_colors[status], `${w.camera} · ${w.enums.camera_status[status]}`]);
    }
  }
  const places = cfg.layers.find((l) => l.renderer === 'places');
  if (places) {
    for (const [kind, colour] of Object.entries(places.style.kind_colors)) {
      items.push([colour, w.enums.place_kind[kind] || kind, 'ms-ring']);
    }
  }
  if (cfg.live) {
    for (const [kind, colour] of Object.entries(ROLE_COLOURS)) items.push([colour, `${w.live.title} · ${w.live[kind]}`]);
  }
  const list = el('ul', { className: 'ms-legend' }, items.map(([colour, text, shape]) => {
    const swatch = el('span', { className: `ms-swatch ${shape || ''}` });
    if (shape) swatch.style.borderColor = colour; // CSSOM, which the CSP allows (a style="" attribute it would not)
    else swatch.style.background = colour;
    return el('li', {}, swatch, text);
  }));
  if (cfg.live) list.append(el('li', { className: 'ms-live-count', dataset: { count: '' } }, fmt(w.live.count, { n: '—' })));
  return list;
}

/** How many people on patrol the map shows (null: the layer is hidden). */
export function showLiveCount(frame, n) {
  const node = frame.root.querySelector('.ms-live-count');
  if (!node) return;
  node.dataset.count = n === null ? '' : String(n);
  node.textContent = fmt(frame.words.live.count, { n: n === null ? '—' : n });
}

/** Show the active window on the switch. */
export function markWindow(frame, windowName) {
  for (const button of frame.buttons) button.classList.toggle('ms-active', button.dataset.window === windowName);
}

/** Write the measures answer into the panel; pending measures keep an empty slot. */
export function showMeasures(frame, answer, windowName) {
  const w = frame.words;
  const v = answer.values;
  const set = (key, text, note = '') => {
    frame.tiles[key].value.textContent = text;
    frame.tiles[key].note.textContent = note;
  };
  frame.tiles.reports.node.querySelector('.ms-label').textContent = fmt(w.m_reports_window,
    { window: w[`window_${windowName}`] });
  set('reports', String(v.reports));
  set('open', String(v.open));
  set('camera_online_rate', percent(v.camera_online_rate), fmt(w.cameras_online, answer.cameras));
  for (const key of ['overdue', 'closure_rate', 'on_time_rate']) {
    const pending = answer.pending.includes(key);
    const text = v[key] === null || v[key] === undefined ? '—' : (key === 'overdue' ? String(v[key]) : percent(v[key]));
    set(key, text, pending ? w.pending : '');
  }
  showHottest(frame, v.hottest_grids, answer.pending.includes('hottest_grids'));
  replace(frame.levels, Object.entries(answer.grids_by_level).map(([level, count]) => [
    el('dt', {}, w.levels[level] || level), el('dd', {}, String(count))]));
}

function showHottest(frame, grids, pending) {
  const w = frame.words;
  if (pending || !grids) {
    replace(frame.hottest, el('p', { className: 'ms-pending' }, `— ${w.pending}`));
    return;
  }
  replace(frame.hottest, grids.length ? el('ol', {}, grids.map((g) => el('li', {},
    el('button', { type: 'button', className: 'ms-link', onClick: () => frame.onGrid(g.code) }, g.name),
    el('span', { className: 'ms-count' }, String(g.incidents))))) : el('p', { className: 'ms-muted' }, '—'));
}

/** Live status: 'live' with the time of the last answer, 'offline' or 'revoked'. */
export function showStatus(frame, state, time = '') {
  frame.status.dataset.state = state;
  const w = frame.words;
  frame.status.textContent = state === 'live' ? `${w.updated} ${time}` : state === 'offline' ? w.offline : '';
  frame.banner.hidden = state !== 'revoked';
  frame.banner.textContent = state === 'revoked' ? w.revoked : '';
}

/** Notes under the measures, e.g. a layer that has more features than it shows. */
export function showNotices(frame, lines) {
  replace(frame.notices, lines.map((line) => el('p', {}, line)));
}
