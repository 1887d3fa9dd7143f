// The live video panel (视频联动) of the wall and the desk: a camera's HLS stream in a floating panel, played by
// hls.js (vendored, loaded on first use) where the browser has Media Source Extensions, by the browser itself
// where it plays HLS natively and has no MSE (Safari on iOS). A stream that is offline, unreachable, refused by the
// page's policy or stalls shows a message saying so, never a blank box; nothing a stream does can break the page.
// Every text is set with textContent. The panel's state is on its data-video-state attribute:
// loading | playing | offline | stalled | none | blocked | unsupported | refused.

const HLS_MODULE = new URL('../vendor/hls.js/hls.light.min.mjs', import.meta.url);
const CONNECT_S = 15; // no picture this long after opening: offline
const STALL_S = 10; // the picture stood still this long while playing: interrupted
const HLS_TYPE = 'application/vnd.apple.mpegurl';

// hls.js gives up on an unreachable stream after one retry rather than its default minute of back-off: a duty
// officer needs to know now, and has a retry button.
const LOAD_POLICY = {
  default: {
    maxTimeToFirstByteMs: 8000, maxLoadTimeMs: 15000,
    timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 },
    errorRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 2000 },
  },
};

let hlsModule = null;
function loadHls() {
  if (!hlsModule) hlsModule = import(HLS_MODULE.href).then((m) => m.default);
  return hlsModule;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function fill(text, figures) {
  return String(text).replace(/\{(\w+)\}/g, (_, name) => String(figures[name] ?? ''));
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch (error) {
    return null;
  }
}

let styled = false;
function addStyle() {
  if (styled) return;
  styled = true;
  document.head.append(el('link', { rel: 'stylesheet', href: new URL('./video.css', import.meta.url).href }));
}

export class VideoPanel {
  /** config: { root, words, origins } from the page's configuration (only for those with video rights). */
  constructor(config) {
    addStyle();
    this.root = config.root || '';
    this.words = config.words;
    this.origins = new Set(config.origins || []);
    this.ticket = 0;
    this.hls = null;
    this.timer = null;
    this.camera = null;
    this.title = el('h2', { class: 'ms-video-title' });
    this.video = el('video', { class: 'ms-video-picture', playsinline: '', muted: '', autoplay: '', controls: '' });
    this.video.muted = true; // a wall plays without sound; browsers let muted video start by itself
    this.message = el('p', { class: 'ms-video-message', role: 'status', 'aria-live': 'polite' });
    this.retry = el('button', { type: 'button', class: 'ms-video-retry', text: this.words.retry, hidden: '',
      onClick: () => this.camera && this.open(this.camera) });
    this.node = el('section', { class: 'ms-video', hidden: '', 'aria-label': this.words.title,
      dataset: { videoState: 'closed' } },
    el('header', { class: 'ms-video-head' }, el('span', { class: 'ms-video-kind', text: this.words.title }),
      this.title, el('button', { type: 'button', class: 'ms-video-close', title: this.words.close, text: '×',
        onClick: () => this.close() })),
    el('div', { class: 'ms-video-frame' }, this.video, this.message),
    el('footer', { class: 'ms-video-foot' }, this.retry));
    document.body.append(this.node);
    for (const name of ['playing', 'timeupdate']) this.video.addEventListener(name, () => this.onProgress());
    this.video.addEventListener('error', () => this.onNativeError());
  }

  /** Open the panel on a camera ({code, name}) and play its stream. */
  async open(camera) {
    this.stop();
    const ticket = ++this.ticket;
    this.camera = camera;
    this.title.textContent = camera.name || camera.code;
    this.node.hidden = false;
    this.node.dataset.code = camera.code;
    this.show('loading', this.words.loading);
    try {
      const resp = await fetch(`${this.root}/api/cameras/${encodeURIComponent(camera.code)}/video`, {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
      if (ticket !== this.ticket) return;
      if (resp.status === 403) return this.show('refused', this.words.forbidden);
      if (resp.status === 404) return this.show('refused', this.words.unknown);
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const answer = await resp.json();
      if (ticket !== this.ticket) return;
      await this.play(answer, ticket);
    } catch (error) {
      if (ticket === this.ticket) this.fail('offline');
    }
  }

  close() {
    this.stop();
    this.ticket += 1;
    this.camera = null;
    this.node.hidden = true;
    this.node.dataset.videoState = 'closed';
  }

  async play(answer, ticket) {
    const url = answer.stream_url;
    if (!url) return this.show('none', this.words.no_stream);
    const origin = originOf(url);
    if (!origin || !this.origins.has(origin)) return this.show('blocked', fill(this.words.not_allowed, { host: origin || url }));
    if (window.location.protocol === 'https:' && url.startsWith('http:')) {
      return this.show('blocked', fill(this.words.insecure, { host: origin }));
    }
    if (answer.snapshot_url && this.origins.has(originOf(answer.snapshot_url))) this.video.poster = answer.snapshot_url;
    const mse = typeof window.MediaSource === 'function' || typeof window.ManagedMediaSource === 'function';
    if (mse) {
      const Hls = await loadHls();
      if (ticket !== this.ticket) return;
      if (!Hls.isSupported()) return this.show('unsupported', this.words.unsupported);
      const hls = new Hls({ enableWorker: false, manifestLoadPolicy: LOAD_POLICY, playlistLoadPolicy: LOAD_POLICY,
        fragLoadPolicy: LOAD_POLICY });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (event, data) => {
        if (data.fatal && ticket === this.ticket) this.fail('offline');
      });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType(HLS_TYPE)) {
      this.video.src = url;
    } else {
      return this.show('unsupported', this.words.unsupported);
    }
    this.watch(ticket);
    this.video.play().catch(() => {}); // refused autoplay leaves the controls: the watchdog words what follows
  }

  // Offline when no picture comes within CONNECT_S; interrupted when a playing picture stands still STALL_S.
  watch(ticket) {
    const opened = Date.now();
    this.progress = { time: -1, at: opened };
    this.timer = setInterval(() => {
      if (ticket !== this.ticket) return;
      const state = this.node.dataset.videoState;
      if (state === 'loading' && Date.now() - opened > CONNECT_S * 1000) this.fail('offline');
      else if (state === 'playing' && !this.video.paused && Date.now() - this.progress.at > STALL_S * 1000) {
        this.fail('stalled', fill(this.words.stalled, { s: STALL_S }));
      }
    }, 1000);
  }

  onProgress() {
    if (!this.progress || this.video.currentTime === this.progress.time) return;
    this.progress = { time: this.video.currentTime, at: Date.now() };
    const state = this.node.dataset.videoState;
    if (state === 'loading' && this.video.currentTime > 0) this.show('playing', this.words.playing);
  }

  onNativeError() {
    if (!this.hls && this.video.getAttribute('src') && this.node.dataset.videoState !== 'closed') this.fail('offline');
  }

  fail(state, text = this.words.offline) {
    this.stop();
    this.show(state, text);
    this.retry.hidden = false;
  }

  show(state, text) {
    this.node.dataset.videoState = state;
    this.message.textContent = text;
    this.message.hidden = state === 'playing';
    this.node.classList.toggle('ms-video-live', state === 'playing');
    this.retry.hidden = true;
  }

  // Everything of the stream let go: hls.js, the element's source, the watchdog.
  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.progress = null;
    if (this.hls) {
      try {
        this.hls.destroy();
      } catch (error) {
        // a stream torn down half-way cannot take the page with it
      }
      this.hls = null;
    }
    this.video.removeAttribute('src');
    this.video.removeAttribute('poster');
    try {
      this.video.load();
    } catch (error) {
      // as above
    }
  }
}

let shared = null;
/** The page's one panel (made on first use). */
export function videoPanel(config) {
  if (!shared) shared = new VideoPanel(config);
  return shared;
}
