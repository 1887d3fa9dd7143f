// The phone's outbox: every report, handling step, photo and patrol position is first written to IndexedDB, then
// sent in the order it was made whenever the phone has a connection (at once, when `online` fires, and every
// 15 s). Each item carries an Idempotency-Key made when the item was made, so a retry after a lost answer never
// makes a second case. An item that the server refuses for good (4xx) is dropped and reported; a network failure,
// a 5xx or a 429 keeps it for the next try; a 401 (the session ended) keeps everything until the person logs in.
//
// An item may wait for another: a report's photos name `{parent}` in their URL until the report is sent and the
// case's id is known.

const DB_NAME = 'mapserver-m';
const DB_VERSION = 1;
const RETRY_MS = 15000;
const RETRIABLE = new Set([408, 425, 429]);

// A random UUID; crypto.randomUUID exists in secure contexts only (an intranet server may be plain http).
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let opened = null;
function db() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        req.result.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        req.result.createObjectStore('kv', { keyPath: 'k' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opened;
}

async function store(name, mode) {
  return (await db()).transaction(name, mode).objectStore(name);
}

// A value kept on the phone under `key` (the last tasks seen, a running patrol), or undefined.
export async function kvGet(key) {
  const row = await request((await store('kv', 'readonly')).get(key));
  return row ? row.v : undefined;
}

export async function kvSet(key, value) {
  await request((await store('kv', 'readwrite')).put({ k: key, v: value }));
}

export async function kvDelete(key) {
  await request((await store('kv', 'readwrite')).delete(key));
}

async function items() {
  return request((await store('outbox', 'readonly')).getAll());
}

async function put(item) {
  return request((await store('outbox', 'readwrite')).put(item));
}

async function remove(seq) {
  await request((await store('outbox', 'readwrite')).delete(seq));
}

// One request as kept: JSON (`json`) or a multipart form (`form`: fields, with a Blob under `file`).
function body(item) {
  if (item.form) {
    const data = new FormData();
    for (const [name, value] of Object.entries(item.form.fields || {})) data.append(name, value);
    data.append(item.form.file, item.form.blob, item.form.filename || 'photo.jpg');
    return data;
  }
  return item.json === undefined ? null : JSON.stringify(item.json);
}

export class Outbox {
  // `endpoints.me` answers the session's CSRF token; `onChange(state)` hears every change of what waits.
  constructor(endpoints, onChange) {
    this.endpoints = endpoints;
    this.onChange = onChange;
    this.results = new Map(); // seq → the server's answer, for the items sent while this page is open
    this.refused = []; // {kind, label, status, detail} of items the server refused for good
    this.state = { waiting: 0, sending: false, login: false };
  }

  start() {
    window.addEventListener('online', () => this.flush());
    window.addEventListener('offline', () => this.report());
    window.setInterval(() => this.flush(), RETRY_MS);
    return this.flush();
  }

  // Keep `item` ({kind, label, method, url, json | form, parent}); its key is made now. Its seq.
  async add(item) {
    const seq = await put({ ...item, key: uuid(), made: new Date().toISOString() });
    await this.report();
    return seq;
  }

  async report() {
    this.state.waiting = (await items()).length;
    this.onChange({ ...this.state, refused: this.refused });
  }

  // Send what waits, in order; rounds run one after another, so an item kept just now is in the next one.
  // Resolves when the round asked for is over.
  flush() {
    this.last = (this.last || Promise.resolve()).then(() => this.round()).catch(() => {}).then(() => {
      this.state.sending = false;
      return this.report();
    });
    return this.last;
  }

  async round() {
    let queued = (await items()).sort((a, b) => a.seq - b.seq);
    if (!queued.length || !navigator.onLine) return;
    this.state.sending = true;
    await this.report();
    let token;
    try {
      const me = await fetch(this.endpoints.me, { credentials: 'same-origin', cache: 'no-store',
        headers: { Accept: 'application/json' } });
      this.state.login = me.status === 401;
      if (!me.ok) return;
      token = (await me.json()).csrf_token;
    } catch (error) {
      return; // no connection after all: the next round tries again
    }
    while (queued.length) {
      const item = queued.shift();
      if (item.url.includes('{parent}')) {
        const id = await kvGet(`sent:${item.parent}`); // its parent went out while another page was open
        if (id === undefined) continue; // its parent was not sent yet
        item.url = item.url.replace('{parent}', encodeURIComponent(id));
        await put(item);
      }
      let resp;
      try {
        resp = await fetch(item.url, {
          method: item.method, credentials: 'same-origin', cache: 'no-store', body: body(item),
          headers: { Accept: 'application/json', 'Idempotency-Key': item.key, 'X-CSRF-Token': token,
            ...(item.form ? {} : { 'Content-Type': 'application/json' }) },
        });
      } catch (error) {
        return;
      }
      const answer = await resp.json().catch(() => ({}));
      if (resp.status === 401) {
        this.state.login = true;
        return;
      }
      if (resp.status >= 500 || RETRIABLE.has(resp.status)) return;
      await remove(item.seq);
      if (resp.ok) {
        this.results.set(item.seq, answer);
        queued = await this.adopt(item.seq, answer.id, queued);
      } else {
        this.refused.push({ kind: item.kind, label: item.label || '', status: resp.status,
          detail: answer.detail || String(resp.status), seq: item.seq });
        queued = await this.orphan(item.seq, queued);
      }
      await this.report();
    }
  }

  // The children of `seq` now know their parent's id (kept too for children made later, a patrol's stop).
  async adopt(seq, id, queued) {
    if (id !== undefined) await kvSet(`sent:${seq}`, id);
    for (const child of queued.filter((c) => c.parent === seq)) {
      child.url = child.url.replace('{parent}', encodeURIComponent(id));
      await put(child);
    }
    return queued;
  }

  // The children of a refused item can never be sent: dropped with it.
  async orphan(seq, queued) {
    for (const child of queued.filter((c) => c.parent === seq)) await remove(child.seq);
    return queued.filter((c) => c.parent !== seq);
  }
}
