// The phone app's service worker, served at /m/sw.js headed by SW_CONFIG (version, shell, pages, scope).
// It keeps the app's files and pages for a start without signal: the files from the cache (a new version of the
// server's files installs a new worker and a new cache), the pages from the network first and from the cache when
// there is none. API requests and everything that is not a GET pass by untouched: the outbox sends those.

const CACHE = `m-shell-${SW_CONFIG.version}`;
const SHELL = new Set(SW_CONFIG.shell);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SW_CONFIG.shell);
    // The pages as this person sees them now; a page that sends to the login page is not kept.
    await Promise.all(SW_CONFIG.pages.map(async (url) => {
      try {
        const resp = await fetch(url, { credentials: 'same-origin', redirect: 'manual' });
        if (resp.status === 200) await cache.put(url, resp);
      } catch (error) {
        // kept when it is next opened
      }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('m-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(request);
    if (resp.status === 200 && resp.type === 'basic') await cache.put(request, resp.clone());
    return resp;
  } catch (error) {
    const url = new URL(request.url);
    return (await cache.match(request)) || (await cache.match(url.pathname))
      || (await cache.match(SW_CONFIG.pages[0])) || Response.error();
  }
}

async function shellFile(request) {
  const kept = await caches.match(request, { cacheName: CACHE });
  return kept || fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.startsWith(SW_CONFIG.scope)) {
    event.respondWith(page(request));
  } else if (SHELL.has(url.pathname)) {
    event.respondWith(shellFile(request));
  }
});
