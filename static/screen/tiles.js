// Layers drawn from the server's vector tiles (MVT): every feature of a layer in view, however many, or clusters
// that count them where a tile holds more than the layer draws one by one. The tiles in view are fetched at the
// map's zoom, once per tile address for every tiled layer shown (an MVT layer per wall layer, named by its key),
// decoded (@mapbox/vector-tile, vendored) and each layer's features, each once by its id (geometries are not
// clipped to tiles), handed to the layer's own renderer, so colours, hovers and clicks are those of the GeoJSON
// layers. Clusters are drawn here: a disc sized by its count, coloured by its worst or commonest class, painted
// with the layer's dots (dots.js); a click zooms in. Coordinates come back as WGS-84 longitude/latitude (the tiles
// are Web Mercator over stored WGS-84).
/* global L */

import { VectorTile } from '../vendor/mapbox-vector-tile/index.js';
import { PbfReader } from '../vendor/pbf/index.js';
import { el } from './dom.js';
import { dot } from './dots.js';

const TILE_PX = 256;
const MAX_ZOOM = 22;
const VIEW_PAD = 0; // 512-pixel tiles overhang the view already; every padded tile is one more request per poll
// Tiles one zoom coarser than the map's, so 512 screen pixels each: a quarter of the requests per poll.
const COARSER = 1;
const CLUSTER_SUFFIX = '_clusters';
const TIME_PROPERTIES = ['reported_at', 'last_seen']; // whole seconds since 1970 in a tile; ISO 8601 for renderers
// Properties a renderer tests against null: a tile leaves a NULL out, GeoJSON has it as null.
const NULLABLE = ['direction_deg', 'fov_deg', 'range_m', 'warning', 'subtype', 'last_seen'];
const WORST_FIRST = { incidents: ['purple', 'red', 'yellow', 'green', 'open', 'closed'] };

/** The tiles at zoom z covering the map's view padded by `pad` of its size each way, as [x, y] pairs. */
export function tilesInView(map, z, pad = 0) {
  // The view's pixels at the map's zoom, scaled to z's (getPixelBounds(centre, z) keeps the screen's size in z's
  // pixels: one zoom coarser it asked for 2 × 2 views' worth of tiles).
  const scale = map.getZoomScale(z, map.getZoom());
  const pixels = map.getPixelBounds();
  const view = L.bounds(pixels.min.multiplyBy(scale), pixels.max.multiplyBy(scale));
  const size = view.getSize();
  const bounds = L.bounds(view.min.subtract(size.multiplyBy(pad)), view.max.add(size.multiplyBy(pad)));
  const last = 2 ** z - 1;
  const clamp = (v) => Math.min(last, Math.max(0, v));
  const [x0, y0] = [clamp(Math.floor(bounds.min.x / TILE_PX)), clamp(Math.floor(bounds.min.y / TILE_PX))];
  const [x1, y1] = [clamp(Math.floor(bounds.max.x / TILE_PX)), clamp(Math.floor(bounds.max.y / TILE_PX))];
  const out = [];
  for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) out.push([x, y]);
  return out;
}

/** The wall layer among `keys` an MVT layer belongs to (a layers tile names them `key`, `key_clusters`, or
 *  `key.part` and `key.part_clusters` for a layer of several parts), and whether it holds clusters; null for none. */
function ownerOf(name, keys) {
  if (keys.has(name)) return { key: name, clustered: false };
  const clustered = name.endsWith(CLUSTER_SUFFIX);
  const key = (clustered ? name.slice(0, -CLUSTER_SUFFIX.length) : name).split('.')[0];
  return keys.has(key) ? { key, clustered } : null;
}

/** Decode one tile: for each wall layer in `keys`, its detail features (GeoJSON, id taken from the `id` property)
 *  and clusters, as a Map key → { features, clusters }. */
export function decodeTile(buffer, x, y, z, keys) {
  const tile = new VectorTile(new PbfReader(new Uint8Array(buffer)));
  const out = new Map(keys.map((key) => [key, { features: [], clusters: [] }]));
  const wanted = new Set(keys);
  for (const [name, layer] of Object.entries(tile.layers)) {
    const owner = ownerOf(name, wanted);
    if (!owner) continue;
    const { key, clustered } = owner;
    const into = out.get(key);
    for (let i = 0; i < layer.length; i += 1) {
      const feature = layer.feature(i).toGeoJSON(x, y, z);
      if (clustered) {
        into.clusters.push({ layer: key, lng: feature.geometry.coordinates[0], lat: feature.geometry.coordinates[1],
          properties: feature.properties });
        continue;
      }
      const p = feature.properties;
      for (const k of TIME_PROPERTIES) if (typeof p[k] === 'number') p[k] = new Date(p[k] * 1000).toISOString();
      for (const k of NULLABLE) if (p[k] === undefined) p[k] = null;
      const id = p.id;
      delete p.id;
      into.features.push({ type: 'Feature', id, geometry: feature.geometry, properties: p, layer: key });
    }
  }
  return out;
}

/** Each part's tag of a layers tile (its `X-Tile-Layer-Tags`: `key=tag,…`). */
function partTags(resp) {
  const tags = new Map();
  for (const item of (resp.headers.get('X-Tile-Layer-Tags') || '').split(',')) {
    const at = item.indexOf('=');
    if (at > 0) tags.set(item.slice(0, at), item.slice(at + 1));
  }
  return tags;
}

/** The wall's tiled layers in view, fetched together: one request per tile address asks for every layer shown
 *  (the per-request cost, not the tiles' data, is what a wall of many layers waits for: BENCHMARKS.md). */
export class TileBatch {
  constructor({ root, map }) {
    this.root = root;
    this.map = map;
    this.drawn = new Map(); // key → the tiles and part tags of the answer drawn last
    this.parts = new Map(); // `z/x/y key tag` → that tile's part of the layer, decoded (the tiles last in view)
  }

  url(keys, z, x, y, window) {
    const query = window ? `?window=${encodeURIComponent(window)}` : '';
    return `${this.root}/api/screen/tiles/${keys.map(encodeURIComponent).join(',')}/${z}/${x}/${y}.mvt${query}`;
  }

  /** For each of `layers` ({ key, usesWindow }), its features in view as a FeatureCollection with `clusters` and
   *  `aggregated`, or null when its part of every tile is the one drawn last (the browser revalidates each tile
   *  with its ETag: a 304 costs no decoding, and a tile whose other layers changed leaves this one undrawn). */
  async load({ layers, window, onAuthLost }) {
    const out = new Map();
    if (!layers.length) return out;
    const keys = layers.map((l) => l.key);
    const asked = layers.some((l) => l.usesWindow) ? window : null;
    const z = Math.min(MAX_ZOOM, Math.max(0, Math.round(this.map.getZoom()) - COARSER));
    const parts = new Map();
    const answers = await Promise.all(tilesInView(this.map, z, VIEW_PAD).map(async ([x, y]) => {
      const resp = await fetch(this.url(keys, z, x, y, asked), { credentials: 'same-origin', cache: 'no-cache' });
      if (resp.status === 401) onAuthLost();
      if (!resp.ok) throw new Error(`tile ${keys} ${z}/${x}/${y}: ${resp.status}`);
      const tags = partTags(resp);
      const tag = resp.headers.get('ETag') || String(Math.random());
      // Read whole even when unchanged (from the browser's cache after a 304): a body left unread is aborted.
      const body = await resp.arrayBuffer();
      // Decoded as it comes, while the other tiles are on their way; a part decoded before is not decoded again.
      const ids = new Map(keys.map((key) => [key, `${z}/${x}/${y} ${key} ${tags.get(key) || tag}`]));
      const missing = keys.filter((key) => !this.parts.has(ids.get(key)));
      const decoded = missing.length ? decodeTile(body, x, y, z, missing) : new Map();
      for (const [key, id] of ids) parts.set(id, this.parts.get(id) || decoded.get(key));
      return ids;
    }));
    this.parts = parts;
    for (const layer of layers) {
      const ids = answers.map((a) => a.get(layer.key));
      const drawn = `${layer.usesWindow ? window : ''}|${ids.join(',')}`;
      if (drawn === this.drawn.get(layer.key)) {
        out.set(layer.key, null);
        continue;
      }
      const byId = new Map();
      const clusters = [];
      for (const id of ids) {
        const part = parts.get(id);
        for (const f of part.features) if (!byId.has(f.id)) byId.set(f.id, f);
        clusters.push(...part.clusters);
      }
      this.drawn.set(layer.key, drawn);
      out.set(layer.key, { type: 'FeatureCollection', features: [...byId.values()], clusters,
        aggregated: clusters.length > 0, tiles: ids.length, numberMatched: byId.size, numberReturned: byId.size });
    }
    return out;
  }

  /** Forget what was drawn of `key`, so the next load draws it again. */
  forget(key) {
    this.drawn.delete(key);
  }
}

function clusterColour(key, style, p) {
  const counts = Object.entries(p).filter(([k]) => k.startsWith('n_')).map(([k, n]) => [k.slice(2), n]);
  const colours = { ...(style.status_colors || {}), ...(style.warning_colors || {}), open: style.color };
  const order = WORST_FIRST[key];
  let chosen = null;
  if (order) chosen = order.find((k) => counts.some(([c]) => c === k));
  else if (counts.length) chosen = counts.sort((a, b) => b[1] - a[1])[0][0];
  return (chosen && colours[chosen]) || style.color || '#4fc3f7';
}

/** A renderer that draws a tiled answer: its features by `inner`, then its clusters, painted with the layer's
 *  dots (dots.js): a disc sized by its count with the count on it; hovering says what it counts, a click zooms in. */
export function withClusters(inner, ctx, storeLayer) {
  const enums = ctx.words.enums;
  const font = () => {
    const root = getComputedStyle(document.documentElement);
    // As the count's label was styled (600 weight, 0.8rem, the page's font): legible on a 4K wall too.
    return `600 ${0.8 * parseFloat(root.fontSize)}px ${getComputedStyle(ctx.map.getContainer()).fontFamily}`;
  };
  function discs(clusters) {
    const labelFont = clusters.length ? font() : '';
    return clusters.map((c) => {
      const n = c.properties.n;
      const colour = clusterColour(storeLayer, ctx.style, c.properties);
      const lines = Object.entries(c.properties).filter(([k]) => k.startsWith('n_'))
        .map(([k, v]) => `${(enums.camera_status || {})[k.slice(2)] || (enums.warning || {})[k.slice(2)]
          || (enums.status || {})[k.slice(2)] || k.slice(2)} ${v}`);
      return dot(c.lat, c.lng, { radius: (7 + 3 * Math.log2(n)) * ctx.scale, fill: colour, fillOpacity: 0.35,
        stroke: colour, weight: 2 * ctx.scale,
        label: { text: String(n), font: labelFont, colour: '#ffffff', shadow: '#000000', blur: 3 } },
      { id: null, classes: `ms-cluster ms-cluster-${storeLayer}`, n }, {
        tip: () => el('div', { className: 'ms-tip' }, [el('strong', {}, `${ctx.title} ${n}`),
          ...lines.map((line) => el('div', {}, line))]),
        click: () => ctx.map.setView([c.lat, c.lng], Math.min(ctx.map.getMaxZoom(), ctx.map.getZoom() + 2)),
      });
    });
  }
  return {
    draw(data) {
      ctx.dots.batch(() => {
        inner.draw(data);
        ctx.dots.set('clusters', discs(data.clusters || []));
      });
    },
    zoomed() {
      if (inner.zoomed) inner.zoomed(); // the dots themselves are painted again at the new zoom (dots.js)
    },
  };
}
