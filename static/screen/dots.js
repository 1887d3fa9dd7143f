// Point features painted on canvases instead of one Leaflet marker (an SVG path, its events, its tooltip) each:
// a city's 12,000 cameras and thousands of incidents as SVG paths cost the wall seconds of layout, style, paint and
// garbage collection on its first draw. A layer's dots are painted on one canvas per 512-pixel tile of the view
// (the size of the wall's vector tiles on screen), in the layer's own pane, so layers stack as before; a tile is
// painted once it comes into view. Each tile's canvas keeps the list of what it painted (`painted`: id, CSS-like
// classes, longitude/latitude, pixel position and radius), which is also what a pointer is tested against: a
// click on a dot does what a click on its marker did, hovering shows its tooltip and the pointer cursor. One listener per map (capture phase, on the map's
// container) serves every dot layer, the topmost pane first; an element in a higher pane (a live position, a
// tooltip, a control) keeps its own events. The canvases are aria-hidden, as the SVG dots were silent: the panels,
// the legend and the search box are what a keyboard or screen reader has, unchanged.
/* global L */

const CELL_PX = 512; // a canvas tile's side in CSS pixels
const HIT_SLOP_PX = 2; // a pointer this near a dot's outline is on it

/** A dot to paint: where (lat, lng), how (radius and stroke width in CSS pixels, colours, opacities, an optional
 *  label), what it is (`record`: id and classes, exposed on its canvas) and what it does (`tip()`: a tooltip node,
 *  `click()`). */
export function dot(lat, lng, look, record, actions = {}) {
  return { lat, lng, look, record, tip: actions.tip || null, click: actions.click || null };
}

const hitLayers = new WeakMap(); // map → its pointer handler

/** The z-index of the Leaflet pane holding a DOM node (panes nest in the map pane); -Infinity outside any. */
function paneZ(node) {
  const pane = node instanceof Element ? node.closest('.leaflet-pane:not(.leaflet-map-pane)') : null;
  if (!pane) return -Infinity;
  const z = Number(pane.style.zIndex || getComputedStyle(pane).zIndex);
  return Number.isFinite(z) ? z : 0;
}

/** One per map: finds the dot under the pointer among the dot layers on the map, topmost first. */
class PointerHits {
  constructor(map) {
    this.map = map;
    this.layers = new Set();
    this.hovered = null;
    this.tooltip = L.tooltip({ className: 'ms-tip-dot', direction: 'auto' });
    const container = map.getContainer();
    container.addEventListener('click', (e) => this.onClick(e), true);
    container.addEventListener('mousemove', (e) => this.onMove(e), true);
    container.addEventListener('mouseleave', () => this.hover(null));
    map.on('zoomstart movestart', () => this.hover(null));
  }

  hitAt(event) {
    if (!this.layers.size || !(event.target instanceof Element)) return null;
    if (event.target.closest('.leaflet-control-container')) return null;
    const above = paneZ(event.target); // what the browser found under the pointer, in its pane
    const point = this.map.mouseEventToLayerPoint(event);
    const layers = [...this.layers].filter((l) => l.z() >= above).sort((a, b) => b.z() - a.z());
    for (const layer of layers) {
      const hit = layer.hitAt(point);
      if (hit) return hit;
    }
    return null;
  }

  onClick(event) {
    if (this.map.dragging && this.map.dragging.moved()) return;
    const hit = this.hitAt(event);
    if (!hit || !hit.click) return;
    event.stopPropagation(); // the dot's, as a marker's click was: not the grid's under it, nor the map's
    this.hover(null);
    hit.click();
  }

  onMove(event) {
    if (event.buttons) return; // dragging the map
    this.hover(this.hitAt(event));
  }

  hover(hit) {
    const container = this.map.getContainer();
    container.classList.toggle('ms-dot-hover', Boolean(hit));
    if (hit === this.hovered || (hit && this.hovered && hit.record === this.hovered.record)) return;
    this.hovered = hit;
    if (!hit || !hit.tip) {
      this.tooltip.remove();
      return;
    }
    this.tooltip.setLatLng([hit.lat, hit.lng]).setContent(hit.tip());
    if (!this.map.hasLayer(this.tooltip)) this.tooltip.addTo(this.map);
  }
}

function pointerHits(map) {
  if (!hitLayers.has(map)) hitLayers.set(map, new PointerHits(map));
  return hitLayers.get(map);
}

/** Paint one dot on a 2D context at (x, y) CSS pixels. */
function paint(ctx, x, y, look) {
  ctx.beginPath();
  ctx.arc(x, y, look.radius, 0, 2 * Math.PI);
  if (look.fill) {
    ctx.globalAlpha = look.fillOpacity;
    ctx.fillStyle = look.fill;
    ctx.fill();
  }
  if (look.weight > 0 && look.stroke) {
    ctx.globalAlpha = look.opacity === undefined ? 1 : look.opacity;
    ctx.lineWidth = look.weight;
    ctx.strokeStyle = look.stroke;
    ctx.stroke();
  }
  if (look.label) {
    ctx.globalAlpha = 1;
    ctx.font = look.label.font;
    ctx.fillStyle = look.label.colour;
    ctx.shadowColor = look.label.shadow;
    ctx.shadowBlur = look.label.blur;
    ctx.fillText(look.label.text, x, y);
    ctx.shadowBlur = 0;
  }
}

/** (lat, lng) → [x, y], the map's pixels at `zoom`: Web Mercator worked out directly for the wall's CRS (a
 *  Leaflet point and LatLng per dot are thousands of objects each paint), map.project for any other. */
function projector(map, zoom) {
  if (map.options.crs !== L.CRS.EPSG3857) {
    return (lat, lng) => {
      const p = map.project([lat, lng], zoom);
      return [p.x, p.y];
    };
  }
  const scale = map.options.crs.scale(zoom);
  const limit = L.Projection.SphericalMercator.MAX_LATITUDE;
  const rad = Math.PI / 180;
  return (lat, lng) => {
    const sin = Math.sin(Math.max(-limit, Math.min(limit, lat)) * rad);
    return [scale * (lng / 360 + 0.5), scale * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI))];
  };
}

/** How far a dot reaches from its centre, in CSS pixels. */
function reach(look) {
  return look.radius + (look.weight > 0 ? look.weight / 2 : 0);
}

/** A layer of dots in a pane, painted on canvas tiles. Its dots come in named sets (a renderer's features, the
 *  clusters beside them), painted in the order the sets were first given; `set` repaints unless inside `batch`. */
export const DotLayer = L.Layer.extend({
  initialize(options) {
    L.setOptions(this, options); // pane, group (the layer group it lives in), title (the canvases' layer name)
    this.sets = new Map();
    this.cells = []; // the tiles painted: { cx, cy, painted, hits }, in paint order
    this.waiting = []; // the tiles sorted but not yet in view, so not painted
    this.holding = 0;
    this.dirty = false;
    this.paintedAt = '';
  },

  /** Replace the dots of set `name` (an array of `dot(...)`), and repaint. */
  set(name, items) {
    this.sets.set(name, items);
    const group = this.options.group;
    if (group && !group.hasLayer(this)) group.addLayer(this); // cleared with its group: back with its dots
    this.dirty = true;
    if (!this.holding) this.repaint();
  },

  /** Run fn with painting held until it returns: several sets, one paint. */
  batch(fn) {
    this.holding += 1;
    try {
      fn();
    } finally {
      this.holding -= 1;
    }
    if (!this.holding && this.dirty) this.repaint();
  },

  onAdd(map) {
    this.container = L.DomUtil.create('div', 'ms-dots leaflet-zoom-animated');
    this.container.dataset.layer = this.options.title || '';
    this.getPane().appendChild(this.container);
    this.hits = pointerHits(map);
    this.hits.layers.add(this);
    this.paintedAt = '';
    if (this.holding) this.dirty = true;
    else this.repaint();
  },

  onRemove() {
    this.hits.layers.delete(this);
    if (this.hits.hovered && this.hits.hovered.layer === this) this.hits.hover(null);
    L.DomUtil.remove(this.container);
    this.container = null;
    this.cells = [];
    this.waiting = [];
  },

  getEvents() {
    const events = { zoomend: this.onView, viewreset: this.onView, move: this.onMove, zoom: this.onZoom };
    if (this._zoomAnimated) events.zoomanim = this.onZoomAnim;
    return events;
  },

  /** The pane's stacking order: which dot layer a pointer meets first. */
  z() {
    const pane = this.getPane();
    return Number(pane.style.zIndex || getComputedStyle(pane).zIndex) || 0;
  },

  onView() {
    if (this.dirty || this.viewKey() !== this.paintedAt) this.repaint();
  },

  viewKey() {
    const origin = this._map.getPixelOrigin();
    return `${this._map.getZoom()}|${origin.x}|${origin.y}`;
  },

  /** During a zoom's animation the painted tiles scale about the zoom's centre, as Leaflet's own renderers do. */
  onZoomAnim(e) {
    if (!this.topLeft) return;
    const scale = this._map.getZoomScale(e.zoom, this.zoom);
    const offset = this._map._latLngToNewLayerPoint(this.topLeft, e.zoom, e.center);
    L.DomUtil.setTransform(this.container, offset, scale);
  },

  /** A zoom with no animation event of its own (flyTo's frames, a pinch): the tiles follow it frame by frame. */
  onZoom() {
    this.onZoomAnim({ zoom: this._map.getZoom(), center: this._map.getCenter() });
  },

  /** Sort every set's dots into the tiles they fall in, then paint the tiles in view; the others are painted when
   *  a move brings them into view (until then, nothing of them is drawn or listed as painted). During a zoom's
   *  animation the paint waits for its end, as the rest of the map does. */
  repaint() {
    if (!this._map || !this.container) return;
    const map = this._map;
    if (map._animatingZoom) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const zoom = map.getZoom();
    this.zoom = zoom;
    this.origin = map.getPixelOrigin();
    this.topLeft = map.unproject(this.origin, zoom);
    this.paintedAt = this.viewKey();
    L.DomUtil.setTransform(this.container, L.point(0, 0), 1);
    const project = projector(map, zoom);
    const byCell = new Map();
    for (const items of this.sets.values()) {
      for (const item of items) {
        const [x, y] = project(item.lat, item.lng);
        const r = reach(item.look);
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(r)) continue; // would blank its tile
        const cx = Math.floor(x / CELL_PX);
        const cy = Math.floor(y / CELL_PX);
        const key = `${cx}/${cy}`;
        let cell = byCell.get(key);
        if (!cell) {
          byCell.set(key, cell = { cx, cy, items: [], xs: [], ys: [], x0: Infinity, y0: Infinity, x1: -Infinity,
            y1: -Infinity });
        }
        cell.items.push(item);
        cell.xs.push(x);
        cell.ys.push(y);
        cell.x0 = Math.min(cell.x0, x - r);
        cell.y0 = Math.min(cell.y0, y - r);
        cell.x1 = Math.max(cell.x1, x + r);
        cell.y1 = Math.max(cell.y1, y + r);
      }
    }
    this.waiting = [...byCell.values()];
    this.cells = [];
    // A tile painted before is painted again on its own canvas (cleared by being sized), not on a new one.
    const before = new Map([...this.container.children].map((c) => [c.dataset.tile, c]));
    const used = this.paintInView(before);
    for (const canvas of before.values()) if (!used.has(canvas)) canvas.remove();
    if (this.hits && this.hits.hovered && this.hits.hovered.layer === this) this.hits.hover(null);
  },

  /** After a move: paint the tiles it brought into view. */
  onMove() {
    if (this.waiting && this.waiting.length && this.viewKey() === this.paintedAt) this.paintInView(new Map());
  },

  /** Paint the tiles waiting whose canvas would show in the view; the canvases used, from `reuse` or new. */
  paintInView(reuse) {
    const used = new Set();
    const view = this._map.getPixelBounds();
    const waiting = [];
    for (const cell of this.waiting) {
      if (cell.x0 > view.max.x || cell.y0 > view.max.y || cell.x1 < view.min.x || cell.y1 < view.min.y) {
        waiting.push(cell);
        continue;
      }
      used.add(this.paintCell(cell, reuse));
    }
    this.waiting = waiting;
    if (used.size) this.stack(); // a move fires every frame of a pan: most paint nothing
    return used;
  },

  /** The canvases in paint order, so the dot a pointer is tested against first (the last painted) is the one on
   *  top: a canvas painted again keeps its place in the container otherwise. */
  stack() {
    let next = this.container.firstChild;
    for (const cell of this.cells) {
      if (cell.canvas === next) next = next.nextSibling;
      else this.container.insertBefore(cell.canvas, next);
    }
  },

  /** Paint one tile's dots on its canvas (from `reuse` when it has one for the tile) and list what it painted.
   *  The canvas covers the dots' extent only, a pixel more each way: every canvas pixel is copied to the compositor
   *  (at 4K, a tile's empty corners add up to screens' worth of them). */
  paintCell(cell, reuse) {
    const ratio = window.devicePixelRatio || 1;
    const x0 = Math.floor(cell.x0) - 1;
    const y0 = Math.floor(cell.y0) - 1;
    const width = Math.ceil(cell.x1) + 1 - x0;
    const height = Math.ceil(cell.y1) + 1 - y0;
    const tile = `${Math.round(this.zoom) - 1}/${cell.cx}/${cell.cy}`; // one vector tile (a zoom coarser) covers it
    const canvas = reuse.get(tile) || document.createElement('canvas');
    canvas.className = 'ms-dots-tile';
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.setAttribute('aria-hidden', 'true');
    canvas.dataset.tile = tile;
    canvas.style.left = `${x0 - this.origin.x}px`; // not a transform each: one composited layer per tile is enough
    canvas.style.top = `${y0 - this.origin.y}px`;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(canvas.width / width, 0, 0, canvas.height / height, 0, 0); // exact at a fractional ratio too
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const painted = [];
    for (let i = 0; i < cell.items.length; i += 1) {
      const item = cell.items[i];
      const x = cell.xs[i];
      const y = cell.ys[i];
      paint(ctx, x - x0, y - y0, item.look);
      // x, y: the dot's centre in the map's pixels at the painted zoom (what map.project gives).
      painted.push(Object.freeze({ ...item.record, lng: item.lng, lat: item.lat, x, y, r: reach(item.look) }));
    }
    // What this tile painted, read-only: the pointer is tested against it, and anyone may count it.
    Object.defineProperty(canvas, 'painted', { value: Object.freeze(painted), enumerable: true,
      configurable: true });
    canvas.dataset.count = String(painted.length);
    if (!canvas.parentNode) this.container.appendChild(canvas);
    this.cells.push({ cx: cell.cx, cy: cell.cy, painted, hits: cell.items, canvas });
    return canvas;
  },

  /** The topmost dot at a layer point (pixels from the map's pixel origin), or null. */
  hitAt(layerPoint) {
    const map = this._map;
    if (!map || !this.cells.length || this.viewKey() !== this.paintedAt) return null;
    const origin = map.getPixelOrigin();
    const x = layerPoint.x + origin.x;
    const y = layerPoint.y + origin.y;
    const cx = Math.floor(x / CELL_PX);
    const cy = Math.floor(y / CELL_PX);
    for (let c = this.cells.length - 1; c >= 0; c -= 1) {
      const cell = this.cells[c];
      if (Math.abs(cell.cx - cx) > 1 || Math.abs(cell.cy - cy) > 1) continue;
      for (let i = cell.painted.length - 1; i >= 0; i -= 1) {
        const p = cell.painted[i];
        const r = p.r + HIT_SLOP_PX;
        const dx = p.x - x;
        const dy = p.y - y;
        if (dx * dx + dy * dy <= r * r) {
          const item = cell.hits[i];
          return { layer: this, record: p, lat: item.lat, lng: item.lng, tip: item.tip, click: item.click };
        }
      }
    }
    return null;
  },
});
