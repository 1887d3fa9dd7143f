// The wall's ground when no intranet tile service is configured: the store's own water and green areas, grid
// boundaries, roads (names from street zoom) and key places' names, drawn from the server's ground vector tiles on
// one canvas per tile, under every layer. It takes no clicks. Text goes onto the canvas as text, never as HTML.
/* global L */

import { VectorTile } from '../vendor/mapbox-vector-tile/index.js';
import { PbfReader } from '../vendor/pbf/index.js';

const TILE_PX = 512; // tiles of one zoom coarser than the map's: a quarter of the requests
const ROAD_NAMES_ZOOM = 15;
// Dark colours under the wall's bright layers: the ground must never read as data.
const STYLE = {
  water: { fill: '#123d63', stroke: '#1d5a8c' },
  green: { fill: '#143b2c', stroke: '#1e5a41' },
  boundaries: { 1: { stroke: '#3f6f9a', width: 1.6, dash: [] }, 2: { stroke: '#2f5677', width: 1, dash: [4, 3] } },
  roads: { primary: ['#56708c', 3.2], secondary: ['#4b637c', 2.4], tertiary: ['#405669', 1.6],
    residential: ['#36495b', 1.1], other: ['#36495b', 1.0] },
  text: '#9fb3c8',
  halo: '#0b1a2e',
  font: '"Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif',
};

function trace(ctx, rings, scale) {
  ctx.beginPath();
  for (const ring of rings) {
    ring.forEach((p, i) => (i ? ctx.lineTo(p.x * scale, p.y * scale) : ctx.moveTo(p.x * scale, p.y * scale)));
  }
}

function areas(ctx, layer, style, scale) {
  if (!layer) return;
  ctx.fillStyle = style.fill;
  ctx.strokeStyle = style.stroke;
  ctx.lineWidth = 1;
  for (let i = 0; i < layer.length; i += 1) {
    trace(ctx, layer.feature(i).loadGeometry(), scale);
    ctx.fill('evenodd');
    ctx.stroke();
  }
}

function lines(ctx, layer, styleOf, scale) {
  if (!layer) return;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  for (let i = 0; i < layer.length; i += 1) {
    const f = layer.feature(i);
    const { stroke, width, dash } = styleOf(f.properties);
    ctx.strokeStyle = stroke;
    ctx.lineWidth = width;
    ctx.setLineDash(dash || []);
    trace(ctx, f.loadGeometry(), scale);
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

function label(ctx, text, x, y, size) {
  ctx.font = `${size}px ${STYLE.font}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineWidth = 3;
  ctx.strokeStyle = STYLE.halo;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = STYLE.text;
  ctx.fillText(text, x, y);
}

/** Each named road once per tile, at the middle of its longest piece inside the tile. */
function roadNames(ctx, layer, scale, extent) {
  const seen = new Set();
  for (let i = 0; i < (layer ? layer.length : 0); i += 1) {
    const f = layer.feature(i);
    const name = f.properties.name;
    if (!name || seen.has(name)) continue;
    const line = f.loadGeometry()[0];
    const mid = line[Math.floor(line.length / 2)];
    if (!mid || mid.x < 0 || mid.y < 0 || mid.x > extent || mid.y > extent) continue;
    seen.add(name);
    label(ctx, name, mid.x * scale, mid.y * scale, 11);
  }
}

function placeNames(ctx, layer, scale, extent) {
  for (let i = 0; i < (layer ? layer.length : 0); i += 1) {
    const f = layer.feature(i);
    const ring = f.loadGeometry()[0];
    const x = ring.reduce((s, p) => s + p.x, 0) / ring.length;
    const y = ring.reduce((s, p) => s + p.y, 0) / ring.length;
    if (f.properties.name && x >= 0 && y >= 0 && x <= extent && y <= extent) {
      label(ctx, f.properties.name, x * scale, y * scale, 12);
    }
  }
}

/** The ground as a Leaflet GridLayer; `cfg.url` is the tile template (…/ground/{z}/{x}/{y}.mvt). */
export const Ground = L.GridLayer.extend({
  initialize(cfg) {
    L.GridLayer.prototype.initialize.call(this, { pane: 'tilePane', maxZoom: 22, minZoom: 1, tileSize: TILE_PX,
      className: 'ms-ground' });
    this.template = cfg.url;
  },

  createTile(coords, done) {
    const canvas = document.createElement('canvas');
    const ratio = window.devicePixelRatio || 1;
    canvas.width = TILE_PX * ratio;
    canvas.height = TILE_PX * ratio;
    const url = this.template.replace('{z}', coords.z - 1).replace('{x}', coords.x).replace('{y}', coords.y);
    fetch(url, { credentials: 'same-origin', cache: 'no-cache' })
      .then((resp) => (resp.ok ? resp.arrayBuffer() : Promise.reject(new Error(`ground ${resp.status}`))))
      .then((buffer) => {
        this.paint(canvas, new VectorTile(new PbfReader(new Uint8Array(buffer))), coords.z, ratio);
        done(null, canvas);
      })
      .catch((error) => done(error, canvas));
    return canvas;
  },

  paint(canvas, tile, z, ratio) {
    const ctx = canvas.getContext('2d');
    const any = Object.values(tile.layers)[0];
    const extent = any ? any.extent : 4096;
    const scale = (TILE_PX * ratio) / extent;
    const L_ = tile.layers;
    areas(ctx, L_.green, STYLE.green, scale);
    areas(ctx, L_.water, STYLE.water, scale);
    lines(ctx, L_.boundaries, (p) => {
      const s = STYLE.boundaries[p.level] || STYLE.boundaries[2];
      return { stroke: s.stroke, width: s.width * ratio, dash: s.dash.map((d) => d * ratio) };
    }, scale);
    lines(ctx, L_.roads, (p) => {
      const [stroke, width] = STYLE.roads[p.road_class] || STYLE.roads.other;
      return { stroke, width: width * ratio * (z >= 16 ? 1.6 : 1) };
    }, scale);
    canvas.dataset.features = String(Object.values(L_).reduce((n, layer) => n + layer.length, 0));
    if (z >= ROAD_NAMES_ZOOM) {
      ctx.save();
      ctx.scale(ratio, ratio);
      roadNames(ctx, L_.roads, scale / ratio, extent);
      ctx.restore();
    }
    if (L_.labels) {
      ctx.save();
      ctx.scale(ratio, ratio);
      placeNames(ctx, L_.labels, scale / ratio, extent);
      ctx.restore();
    }
  },
});
