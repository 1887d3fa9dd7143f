// What the desk pages (intake, patrol planner, case, queue, scorecards) share: reading the page's configuration,
// building elements whose texts are set with textContent (nothing is parsed as HTML), filling in a word's
// figures, asking this server's API with the session's cookie, and the map pages' Leaflet map.

// The configuration the server wrote into <body data-config> (escaped JSON).
export function pageConfig() {
  return JSON.parse(document.body.dataset.config);
}

// The session's CSRF token from <meta name="csrf-token">: sent with every request that changes something.
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

// An element: `text` becomes textContent, `dataset` data attributes, `onX` listeners, known properties are set
// as properties and the rest as attributes; null, undefined and false children are left out.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in node && key !== 'list') node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// `say(key, {n: 3})`: the word `key` from `words` with each {name} replaced by its figure.
export function sayer(words) {
  return (key, figures = {}) => String(words[key]).replace(/\{(\w+)\}/g, (_, name) => String(figures[name] ?? ''));
}

// A failed request: the server's explanation (problem+json detail) as the message, the HTTP status, and the whole
// problem document (its `reason` and facts let a page word the refusal in its own language).
export class Refused extends Error {
  constructor(status, detail, problem = {}) {
    super(detail);
    this.status = status;
    this.problem = problem;
  }
}

// `call(method, path, {params, body, headers})` against `root`: JSON in and out, never cached. A 401 (the session
// ended) reloads the page, which sends the browser to log in and back; any other failure throws Refused.
export function caller(root) {
  return async function call(method, path, { params = {}, body = null, headers = {} } = {}) {
    const query = new URLSearchParams(params).toString();
    const resp = await fetch(`${root}${path}${query ? `?${query}` : ''}`, {
      method, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : null,
    });
    const answer = await resp.json().catch(() => ({}));
    if (resp.status === 401) window.location.reload();
    if (!resp.ok) throw new Refused(resp.status, answer.detail || String(resp.status), answer);
    return answer;
  };
}

// One table cell with `text` (as text) appended to `row`.
export function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

// A Leaflet map (L, from the page's vendor/leaflet script) in `box`, centred on `[lon, lat]` (WGS-84), with the
// zoom range and basemap of the page's configuration; `options` adds to or overrides Leaflet's.
export function deskMap(box, config, [lon, lat], options = {}) {
  const map = L.map(box, { center: [lat, lon], zoom: config.map.zoom, minZoom: config.map.min_zoom,
    maxZoom: config.map.max_zoom, zoomControl: true, ...options });
  if (config.basemap.kind !== 'none') {
    L.tileLayer(config.basemap.url, { maxZoom: config.basemap.max_zoom,
      attribution: (config.basemap.attribution || '').replace(/[<>&"]/g, '') }).addTo(map);
  }
  return map;
}
