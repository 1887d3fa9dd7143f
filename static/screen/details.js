// The card on the right: what was clicked or searched. Everything is written as text.
/* global L */

import { videoPanel } from '../video/player.js';
import { append, el, replace } from './dom.js';

function rows(pairs) {
  return el('dl', { className: 'ms-rows' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
}

export class Details {
  /** api: Api; map: the Leaflet map; state: { lang, window, words, time(iso) }. */
  constructor(api, map, state) {
    this.api = api;
    this.map = map;
    this.state = state;
    this.words = state.words;
    this.body = el('div', { className: 'ms-card-body' });
    this.node = el('aside', { className: 'ms-panel ms-card', hidden: true },
      el('button', { type: 'button', className: 'ms-close', title: this.words.close, onClick: () => this.close() }, '×'),
      this.body);
    this.highlight = L.layerGroup().addTo(map);
    this.ticket = 0; // answers to an earlier click must not overwrite a later one
    document.getElementById('screen-ui').appendChild(this.node);
  }

  open(title, kind, ...parts) {
    this.node.hidden = false;
    replace(this.body, el('div', { className: 'ms-kind' }, kind), el('h2', { className: 'ms-title' }, title), parts);
    return ++this.ticket;
  }

  close() {
    this.node.hidden = true;
    this.highlight.clearLayers();
  }

  mark(feature) {
    this.highlight.clearLayers();
    if (feature) {
      L.geoJSON(feature, { interactive: false, style: { className: 'ms-highlight', color: '#ffee58', weight: 4,
        fillOpacity: 0.08 }, pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 14, className: 'ms-highlight' }) })
        .addTo(this.highlight);
    }
  }

  failed(ticket, error) {
    if (ticket === this.ticket) append(this.body, [el('p', { className: 'ms-error' }, error.message)]);
  }

  select(item) {
    const show = { grid: () => this.grid(item.code, item.feature), incident: () => this.incident(item.id, item.feature),
      camera: () => this.camera(item.feature), place: () => this.place(item.feature) }[item.type];
    if (show) show();
  }

  async grid(code, feature) {
    const w = this.words;
    this.mark(feature);
    const ticket = this.open(feature ? feature.properties.name : code, w.grid);
    try {
      const [card, staff] = await Promise.all([
        this.api.get(`/api/screen/grids/${encodeURIComponent(code)}`, { window: this.state.window }),
        this.api.get('/api/grid_staff', { grid_code: code }),
      ]);
      if (ticket === this.ticket) this.showGrid(card, staff.features.map((f) => f.properties));
    } catch (error) {
      this.failed(ticket, error);
    }
  }

  /** Grid staff: role, name, phone, unit (phones of grid staff are public by design, DOMAIN.md). */
  people(staff) {
    const w = this.words;
    if (!staff.length) return el('p', { className: 'ms-muted' }, w.no_staff);
    return el('ul', { className: 'ms-staff' }, staff.map((p) => el('li', {},
      el('span', { className: 'ms-role' }, w.enums.role[p.role] || p.role), el('span', { className: 'ms-name' }, p.name),
      el('span', { className: 'ms-phone' }, p.phone || ''), el('span', { className: 'ms-unit' }, p.unit || ''))));
  }

  showGrid(card, staff) {
    const w = this.words;
    const chain = el('ol', { className: 'ms-chain' }, card.chain.map((g) => el('li', {},
      el('button', { type: 'button', className: 'ms-link', onClick: () => this.grid(g.code, null) },
        `${w.levels[g.level] || ''} ${g.name}`))));
    const c = card.counts;
    this.open(card.name, `${w.grid} · ${w.levels[card.level] || ''}`,
      rows([[w.code, card.code], [w.households, card.households], [w.population, card.population]]),
      el('h3', {}, w.chain), chain,
      el('h3', {}, w.counts), rows([[w.incidents_in_window, c.incidents], [w.open_in_window, c.open],
        [w.cameras, `${c.cameras_online} / ${c.cameras}`], [w.children, c.children]]),
      el('h3', {}, w.staff), this.people(staff));
  }

  async incident(id, feature) {
    const w = this.words;
    this.mark(feature);
    const ticket = this.open('…', w.incident);
    try {
      const body = await this.api.get(`/api/incidents/${encodeURIComponent(id)}`);
      if (ticket === this.ticket) this.showIncident(body);
    } catch (error) {
      this.failed(ticket, error);
    }
  }

  showIncident(body) {
    const w = this.words;
    const p = body.properties || body;
    const extra = p.extra || {};
    const timeline = body.timeline || p.timeline;
    const steps = Array.isArray(timeline) && timeline.length
      ? el('ol', { className: 'ms-timeline' }, timeline.map((t) => el('li', {},
        el('span', { className: 'ms-when' }, this.state.time(t.at)),
        ` ${w.enums.status[t.to] || t.to || ''} `, el('span', { className: 'ms-muted' }, [t.actor, t.unit]
          .filter(Boolean).join(' · ')), t.note ? el('div', { className: 'ms-note-text' }, t.note) : null)))
      : el('p', { className: 'ms-muted' }, w.timeline_pending);
    this.open(w.enums.category[p.category] || p.category, w.incident,
      rows([[w.status, w.enums.status[p.status] || p.status], [w.severity, w.enums.severity[p.severity] || p.severity],
        [w.warning, p.warning ? w.enums.warning[p.warning] || p.warning : null],
        [w.reported_at, this.state.time(p.reported_at)], [w.address, p.address || extra.address],
        [w.unit, p.unit], [w.due_at, p.due_at ? this.state.time(p.due_at) : null],
        [w.grid, p.grid_code]]),
      el('h3', {}, w.description), el('p', { className: 'ms-description' }, p.description || '—'),
      el('h3', {}, w.timeline), steps);
  }

  camera(feature) {
    const w = this.words;
    const p = feature.properties;
    this.mark(feature);
    this.open(p.name, w.camera, rows([[w.code, feature.id], [w.status, w.enums.camera_status[p.status] || p.status],
      [w.last_seen, p.last_seen ? this.state.time(p.last_seen) : null]]));
    // Those with video rights see what the camera sees: its live stream opens beside the card.
    if (this.state.video) videoPanel(this.state.video).open({ code: String(feature.id), name: p.name });
  }

  place(feature) {
    const w = this.words;
    const p = feature.properties;
    this.mark(feature);
    this.open(p.name, w.place, rows([[w.code, feature.id], [w.kind, w.enums.place_kind[p.kind] || p.kind]]));
  }

  /** A searched point: where it is, the grids covering it and the people of the finest one. */
  async point(found) {
    const w = this.words;
    const feature = { type: 'Feature', geometry: { type: 'Point', coordinates: [found.lon, found.lat] } };
    this.mark(feature);
    const finest = found.grids.filter((g) => g.kind === 'base').pop();
    const chain = found.grids.length
      ? el('ol', { className: 'ms-chain' }, found.grids.map((g) => el('li', {}, el('button', {
        type: 'button', className: 'ms-link', onClick: () => this.grid(g.code, null) },
      `${w.levels[g.level] || ''} ${g.name}`))))
      : el('p', { className: 'ms-muted' }, w.no_grid_here);
    const ticket = this.open(`${found.lon.toFixed(6)}, ${found.lat.toFixed(6)}`, `${w.point} · WGS-84`,
      el('h3', {}, w.chain), chain);
    if (!finest) return;
    try {
      const staff = await this.api.get('/api/grid_staff', { grid_code: finest.code });
      if (ticket !== this.ticket) return;
      append(this.body, [el('h3', {}, `${w.staff} · ${finest.name}`),
        this.people(staff.features.map((f) => f.properties))]);
    } catch (error) {
      this.failed(ticket, error);
    }
  }
}

