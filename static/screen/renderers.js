// How each kind of layer is drawn. A layer module in layers/ names its renderer (RENDERER); the page makes one
// renderer per configured layer and hands it every new answer. Tooltips are DOM nodes built from text, never HTML.
/* global L */

import { el, fmt } from './dom.js';
import { dot } from './dots.js';
import { sector } from './geo.js';

function tooltip(...lines) {
  return el('div', { className: 'ms-tip' }, lines.filter(Boolean).map((line, i) => el(i ? 'div' : 'strong', {}, line)));
}

function label(words, kind, value) {
  return (words.enums[kind] && words.enums[kind][value]) || value || '';
}

/** Outline: the district boundary, under everything, taking no clicks. */
function outline(ctx) {
  return {
    draw(data) {
      const s = ctx.style;
      ctx.group.clearLayers();
      // The glow is a wide faint stroke under the line: a CSS drop-shadow over a wall-sized path is blurred again
      // on every repaint, which at 4K costs more than the rest of the frame.
      L.geoJSON(data, {
        interactive: false,
        pane: ctx.pane,
        style: () => ({ className: 'ms-outline-glow', color: s.color, weight: 4 * s.weight * ctx.scale,
          opacity: 0.25 * s.opacity, fill: false }),
      }).addTo(ctx.group);
      L.geoJSON(data, {
        interactive: false,
        pane: ctx.pane,
        style: () => ({ className: 'ms-outline', color: s.color, weight: s.weight * ctx.scale, opacity: s.opacity,
          fillColor: s.fill_color, fillOpacity: s.fill_opacity }),
      }).addTo(ctx.group);
    },
  };
}

/** A colour between the stops of a ramp (hex colours, low to high) at t in [0, 1]. */
function ramp(stops, t) {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const [a, b] = [stops[i], stops[i + 1]].map((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)));
  const mix = a.map((v, k) => Math.round(v + (b[k] - v) * (x - i)));
  return `#${mix.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** A GeoJSON layer in the renderer's pane, redrawn whole: `style(feature)` gives its path options and
 *  `tip(feature)` the lines of its hover. */
function shapes(ctx, style, tip) {
  return {
    draw(data) {
      clearShapes(ctx);
      L.geoJSON(data, {
        pane: ctx.pane,
        style,
        onEachFeature: (f, layer) => layer.bindTooltip(tooltip(...tip(f)), { sticky: true }),
      }).addTo(ctx.group);
    },
  };
}

/** Cells graded by a share in [0, 1] the server gives each (property `shade`, fixed district-wide so panning
 *  never recolours a cell): fill from the style's ramp, brighter and more opaque as the share grows. */
function cells(ctx) {
  const s = ctx.style;
  return shapes(ctx, (f) => ({ className: 'ms-cell', color: ramp(s.ramp, f.properties.shade),
    weight: s.weight * ctx.scale, opacity: s.opacity, fillColor: ramp(s.ramp, f.properties.shade),
    fillOpacity: s.fill_opacity_min + (s.fill_opacity - s.fill_opacity_min) * f.properties.shade }),
  (f) => [`${ctx.words.incidents_in_window} ${f.properties.count}`]);
}

/** Emerging-hotspot cells of one trend category: filled hexagons in the layer's colour, the hover saying how
 *  many periods the cell was hot in and its incidents in the last one. */
function trend(ctx) {
  const s = ctx.style;
  return shapes(ctx, () => ({ className: 'ms-trend', color: s.color, weight: s.weight * ctx.scale,
    opacity: s.opacity, fillColor: s.fill_color, fillOpacity: s.fill_opacity }),
  ({ properties: p }) => {
    const unit = label(ctx.words, 'period', p.period);
    return [ctx.title, fmt(ctx.words.trend_hot, { hot: p.hot_periods, periods: p.periods, unit }),
      fmt(ctx.words.trend_last, { unit, count: p.count })];
  });
}

/** Patrol routes: lines along the roads in the layer's colour; the hover says who, how and how long. */
function routes(ctx) {
  const s = ctx.style;
  return shapes(ctx, () => ({ className: 'ms-route', color: s.color, weight: s.weight * ctx.scale,
    opacity: s.opacity, fill: false, lineJoin: 'round' }),
  ({ properties: p }) => [p.liaison || ctx.title,
    `${label(ctx.words, 'patrol_mode', p.mode)} · ${label(ctx.words, 'patrol_window', p.window)}`,
    fmt(ctx.words.route_size, { km: (p.length_m / 1000).toFixed(1), min: Math.round(p.duration_min) }),
    ctx.time(p.created_at)]);
}

/** Grid outlines of one level; a grid with a risk colour is filled with it. Click → the grid card. */
function grids(ctx) {
  const s = ctx.style;
  const style = (feature) => {
    const risk = feature.properties.risk && s.risk_colors[feature.properties.risk];
    return { pane: ctx.pane, className: `ms-grid ms-grid-l${feature.properties.level}`, color: s.color, weight: s.weight * ctx.scale,
      opacity: s.opacity, dashArray: s.dash || null, fillColor: risk || s.color,
      fillOpacity: risk ? s.risk_opacity : s.fill_opacity };
  };
  return {
    draw(data) {
      clearShapes(ctx);
      L.geoJSON(data, {
        style,
        onEachFeature: (feature, layer) => {
          const p = feature.properties;
          const code = feature.id;
          if (s.labels) {
            layer.bindTooltip(el('span', {}, p.name), { permanent: true, direction: 'center', className: 'ms-grid-label' });
          } else {
            layer.bindTooltip(tooltip(p.name, `${ctx.words.levels[p.level] || ''} · ${code}`,
              p.risk && label(ctx.words, 'risk', p.risk)), { sticky: true });
          }
          layer.on('click', () => ctx.select({ type: 'grid', code, feature }));
        },
      }).addTo(ctx.group);
    },
  };
}

/** Remove a renderer's Leaflet layers from its group, leaving its painted dots (dots.js) to their own `set`. */
function clearShapes(ctx) {
  for (const layer of ctx.group.getLayers()) if (layer !== ctx.dots) ctx.group.removeLayer(layer);
}

/** Key places: points as rings (painted dots), areas as outlines, coloured by kind. Click → what the feature says. */
function places(ctx) {
  const s = ctx.style;
  const colour = (f) => s.kind_colors[f.properties.kind] || s.color;
  return {
    draw(data) {
      clearShapes(ctx);
      const points = data.features.filter((f) => f.geometry && f.geometry.type === 'Point');
      const areas = data.features.filter((f) => !f.geometry || f.geometry.type !== 'Point');
      if (areas.length) {
        L.geoJSON({ type: 'FeatureCollection', features: areas }, {
          pane: ctx.pane,
          style: (f) => ({ className: 'ms-place', color: colour(f), weight: s.weight * ctx.scale,
            fillOpacity: s.fill_opacity }),
          onEachFeature: (f, layer) => {
            layer.bindTooltip(tooltip(f.properties.name, label(ctx.words, 'place_kind', f.properties.kind)));
            layer.on('click', () => ctx.select({ type: 'place', feature: f }));
          },
        }).addTo(ctx.group);
      }
      ctx.dots.set('features', points.map((f) => {
        const [lng, lat] = f.geometry.coordinates;
        return dot(lat, lng, { radius: s.radius * ctx.scale, fill: colour(f), fillOpacity: s.fill_opacity,
          stroke: colour(f), weight: s.weight * ctx.scale }, { id: f.id, classes: 'ms-place' }, {
          tip: () => tooltip(f.properties.name, label(ctx.words, 'place_kind', f.properties.kind)),
          click: () => ctx.select({ type: 'place', feature: f }),
        });
      }));
    },
  };
}

/** Cameras: a dot per camera coloured by status, its outline red when offline; from sector_min_zoom on, its
 *  view sector too (under the dots). */
function cameras(ctx) {
  const s = ctx.style;
  let last = null;
  const colour = (p) => s.status_colors[p.status] || s.status_colors.unknown;
  const offlineEdge = cssColour('--bad', '#ff5252');
  function drawSector(f) {
    const p = f.properties;
    if (p.direction_deg === null || p.fov_deg === null) return;
    const [lng, lat] = f.geometry.coordinates;
    const ring = sector([lat, lng], p.direction_deg, p.fov_deg, p.range_m || s.default_range_m);
    L.polygon(ring, { pane: ctx.pane, className: 'ms-sector', interactive: false, stroke: false, fillColor: colour(p),
      fillOpacity: s.sector_opacity }).addTo(ctx.group);
  }
  function camera(f) {
    const p = f.properties;
    const [lng, lat] = f.geometry.coordinates;
    return dot(lat, lng, { radius: s.radius * ctx.scale, fill: colour(p), fillOpacity: 0.95,
      stroke: p.status === 'offline' ? offlineEdge : '#06101c', weight: 1 },
    { id: f.id, classes: `ms-camera ms-camera-${p.status}` }, {
      // Built when first shown: thousands of dots must not each build a node up front.
      tip: () => tooltip(p.name, label(ctx.words, 'camera_status', p.status)),
      click: () => ctx.select({ type: 'camera', feature: f }),
    });
  }
  return {
    draw(data) {
      last = data || last;
      clearShapes(ctx);
      if (!last) {
        ctx.dots.set('features', []);
        return;
      }
      if (ctx.map.getZoom() >= s.sector_min_zoom) last.features.forEach(drawSector);
      ctx.dots.set('features', last.features.map(camera));
    },
    zoomed() { this.draw(null); },
  };
}

/** Incidents of the window: coloured by warning when they have one, else by status; closed ones recede
 *  (painted first, smaller, dimmer); new ones pulse (a ring, under the dot, that widens and fades). */
function incidents(ctx) {
  const s = ctx.style;
  let seen = null; // ids drawn before: anything else is new since the last poll
  const colour = (p) => (p.warning && s.warning_colors[p.warning]) || s.status_colors[p.status] || s.color;
  const closedFirst = (a, b) => (b.properties.status === 'closed') - (a.properties.status === 'closed');
  return {
    draw(data) {
      clearShapes(ctx);
      const ids = new Set();
      const items = [];
      for (const f of [...data.features].sort(closedFirst)) {
        const p = f.properties;
        ids.add(f.id);
        const isNew = seen !== null && !seen.has(f.id);
        const closed = p.status === 'closed';
        const [lng, lat] = f.geometry.coordinates;
        const radius = s.radius * ctx.scale * (closed ? s.closed_scale : 1);
        if (isNew) {
          L.circleMarker([lat, lng], { pane: ctx.pane, className: 'ms-pulse', interactive: false, radius,
            color: '#ffffff', weight: 2, fill: false }).addTo(ctx.group);
        }
        items.push(dot(lat, lng, { radius, fill: colour(p), fillOpacity: closed ? s.closed_opacity : 0.9,
          stroke: '#ffffff', weight: closed ? 0 : s.weight },
        { id: f.id, classes: `ms-incident ms-incident-${p.warning || p.status}${isNew ? ' ms-new' : ''}` }, {
          // Built when first shown: thousands of dots must not each format a time and build a node up front.
          tip: () => tooltip(label(ctx.words, 'category', p.category),
            `${label(ctx.words, 'status', p.status)} · ${ctx.time(p.reported_at)}`),
          click: () => ctx.select({ type: 'incident', id: f.id, feature: f }),
        }));
      }
      ctx.dots.set('features', items);
      seen = ids;
    },
  };
}

/** A colour the page's stylesheet names (a custom property of :root), or `fallback`. */
function cssColour(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export const RENDERERS = { outline, cells, trend, routes, grids, places, cameras, incidents };
