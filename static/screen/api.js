// JSON from this server only. Polled answers carry ETags: an unchanged answer costs a 304 and no redraw.

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.problem = problem || {};
  }

  /** Whether the route itself does not exist (a module not installed yet), rather than the thing asked for. */
  get routeMissing() {
    return this.status === 404 && String(this.problem.detail || '').startsWith('no resource at');
  }
}

export class Api {
  /** root: the app's URL prefix; onAuthLost: called when the server stops accepting the wall's token. */
  constructor(root, onAuthLost) {
    this.root = root;
    this.onAuthLost = onAuthLost;
    this.tags = new Map(); // path → { url, tag } of the answer last drawn: one entry per endpoint, however it pans
  }

  url(path, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined) query.set(key, value);
    const text = query.toString();
    return `${this.root}${path}${text ? `?${text}` : ''}`;
  }

  /** GET JSON; with poll=true, resolve to null when the answer is the one drawn last time (same ETag).
   *  The browser's own cache revalidates with If-None-Match (Cache-Control: no-cache), so an unchanged answer
   *  costs the server a 304 and this page no parsing and no redraw. */
  async get(path, params = {}, { poll = false } = {}) {
    const url = this.url(path, params);
    const resp = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin',
      cache: 'no-cache' });
    if (resp.status === 401) this.onAuthLost();
    if (!resp.ok) {
      const problem = await resp.json().catch(() => ({}));
      throw new ApiError(resp.status, problem.detail || resp.statusText, problem);
    }
    const tag = resp.headers.get('ETag');
    const drawn = this.tags.get(path);
    if (poll && tag && drawn && drawn.url === url && drawn.tag === tag) return null;
    const body = await resp.json();
    if (poll && tag) this.tags.set(path, { url, tag });
    return body;
  }

  /** Forget what was drawn for paths starting with prefix, so the next poll redraws them. */
  forget(prefix) {
    for (const path of [...this.tags.keys()]) if (path.startsWith(prefix)) this.tags.delete(path);
  }
}
