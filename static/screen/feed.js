// The rolling feed of the newest cases (最新事件): newest first, each with its warning colour, category, source,
// place and time in the wall's time zone; a click flies the map there and opens the case's card. Every text of a
// case (category, place, description) is data and reaches the page as text nodes only.
/* global L */

import { el, replace } from './dom.js';

const FLY_ZOOM = 16; // a compound's buildings fill the view

export class Feed {
  /** node: the list to fill; ctx: { map, details, words, style (the incidents layer's colours), timezone, lang }. */
  constructor(node, ctx) {
    this.node = node;
    this.ctx = ctx;
    this.seen = null; // ids shown before: anything else is new since the last answer
    this.format = new Intl.DateTimeFormat(ctx.lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: ctx.timezone,
      month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  }

  /** The colour of a case's dot: its warning when open, else its status (closed: the layer's grey). */
  colour(item) {
    const s = this.ctx.style;
    return (item.warning && s.warning_colors[item.warning]) || s.status_colors[item.status] || s.color;
  }

  show(items) {
    const w = this.ctx.words;
    const ids = new Set(items.map((item) => item.id));
    if (!items.length) {
      replace(this.node, el('li', { className: 'ms-muted ms-feed-empty' }, w.panels.feed_empty));
    } else {
      replace(this.node, items.map((item) => this.row(item, this.seen !== null && !this.seen.has(item.id))));
    }
    this.seen = ids;
  }

  row(item, isNew) {
    const w = this.ctx.words;
    const dot = el('span', { className: 'ms-feed-dot' });
    dot.style.background = this.colour(item); // CSSOM, which the CSP allows
    const category = (w.enums.category && w.enums.category[item.category]) || item.category;
    const source = w.panels.sources[item.source] || item.source;
    const place = [item.grid_name, item.address].filter(Boolean).join(' · ');
    const row = el('li', {
      className: `ms-feed-item${isNew ? ' ms-new' : ''}`,
      dataset: { id: item.id, warning: item.warning || item.status },
      title: w.panels.fly,
      tabIndex: 0,
      onClick: () => this.fly(item),
      onKeydown: (event) => { if (event.key === 'Enter') this.fly(item); },
    },
    dot,
    el('div', { className: 'ms-feed-head' }, el('span', { className: 'ms-feed-category' }, category),
      el('span', { className: 'ms-feed-source' }, source),
      el('time', { className: 'ms-feed-time', dateTime: item.reported_at }, this.format.format(new Date(item.reported_at)))),
    el('div', { className: 'ms-feed-place' }, place || '—'),
    item.description ? el('div', { className: 'ms-feed-text' }, item.description) : null);
    return row;
  }

  fly(item) {
    const { map, details } = this.ctx;
    const feature = { type: 'Feature', id: item.id, geometry: { type: 'Point', coordinates: [item.lon, item.lat] },
      properties: { category: item.category, status: item.status, warning: item.warning } };
    details.select({ type: 'incident', id: item.id, feature }); // first: the card's place is then known
    const zoom = Math.max(map.getZoom(), FLY_ZOOM);
    map.flyTo(centreFor(map, L.latLng(item.lat, item.lon), zoom), zoom, { duration: 1.2 });
  }
}

/** The part of the map no panel covers (page pixels): right of the measures, left of the side column and of an
 *  open card, below the title bar, above the charts. */
function freeArea(box) {
  const edge = (selector, side) => {
    const node = document.querySelector(selector);
    return node && !node.hidden ? node.getBoundingClientRect()[side] : null;
  };
  const lows = (values) => values.filter((v) => v !== null);
  return {
    left: Math.max(box.left, ...lows([edge('.ms-measures', 'right')])),
    right: Math.min(box.right, ...lows([edge('.ms-side', 'left'), edge('.ms-card', 'left')])),
    top: Math.max(box.top, ...lows([edge('.ms-bar', 'bottom')])),
    bottom: Math.min(box.bottom, ...lows([edge('.ms-charts', 'top')])),
  };
}

/** The map centre at ``zoom`` that puts ``target`` in the middle of the free part of the map, not under a panel. */
function centreFor(map, target, zoom) {
  const box = map.getContainer().getBoundingClientRect();
  const free = freeArea(box);
  const offset = L.point((free.left + free.right) / 2 - (box.left + box.width / 2),
    (free.top + free.bottom) / 2 - (box.top + box.height / 2));
  return map.unproject(map.project(target, zoom).subtract(offset), zoom);
}
