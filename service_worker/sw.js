/* jobcenter.digital service worker (docs/offline.md). app/pwa.py serves it as /sw.js and
   fills in JCD_CONFIG: cache version, precache list (hashed static URLs), the offline page
   of each variant, the public pages a copy may be kept of.
   - Precaches the shell; static files cache first (their names are hashed).
   - Navigations network first; offline: a kept public page, a step this device holds
     (drafts.js keeps its #main), else the offline page in the visitor's variant.
   - Never caches a POST, an htmx request (HX-Request) or a personal page.
   - Background Sync 'jcd-queue': sends the step data queued in IndexedDB (drafts.js). */
'use strict';
self.JCD_CONFIG = {};
var C = self.JCD_CONFIG;
var SHELL = 'jcd-shell-' + C.version;
var PAGES = 'jcd-pages-' + C.version;
var LANG_KEY = '/__jcd/lang';
var lang = null;

function code(tag) {
  tag = String(tag || '').toLowerCase();
  return tag.indexOf('x-ls') > -1 ? 'ls' : C.offline[tag.slice(0, 2)] ? tag.slice(0, 2) : null;
}

function setLang(v) {
  if (!v || v === lang) return;
  lang = v;
  caches.open(SHELL).then(function (c) { return c.put(LANG_KEY, new Response(v)); });
}

function variant() {
  if (lang) return Promise.resolve(lang);
  return caches.match(LANG_KEY).then(function (hit) { return hit ? hit.text() : null; })
    .then(function (v) { return v || code(self.navigator.language) || C.fallback; });
}

self.addEventListener('install', function (e) {
  var urls = C.precache.slice();
  Object.keys(C.offline).forEach(function (v) {
    urls.push(new Request(C.offline[v], { cache: 'reload', credentials: 'omit' }));
  });
  e.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(urls); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.map(function (k) {
      return k.indexOf('jcd-') === 0 && k !== SHELL && k !== PAGES ? caches.delete(k) : null;
    }));
  }).then(function () {
    var np = self.registration.navigationPreload;
    return np && np.enable();
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('message', function (e) {
  if (e.data && e.data.lang) setLang(code(e.data.lang));
});

// A copy of a public page, without anything that belongs to one visitor's session.
function keep(path, v, res) {
  return res.text().then(function (html) {
    var copy = new Response(html.replace(/ data-device-storage="off"/, ''), {
      headers: { 'Content-Type': res.headers.get('Content-Type') || 'text/html' }
    });
    return caches.open(PAGES).then(function (c) { return c.put(path + '?v=' + v, copy); });
  });
}

function page(e, url) {
  var asked = code(url.searchParams.get('lang'));
  if (asked) setLang(asked);
  var pub = C.public.indexOf(url.pathname) > -1;
  return Promise.resolve(e.preloadResponse).then(function (pre) {
    return pre || fetch(e.request);
  }).then(function (res) {
    if (pub && res.ok && res.type === 'basic' && lang) e.waitUntil(keep(url.pathname, lang, res.clone()));
    return res;
  }).catch(function () {
    return variant().then(function (v) {
      return (pub ? caches.match(url.pathname + '?v=' + v, { ignoreVary: true }) : Promise.resolve())
        .then(function (hit) {
          return hit || caches.match(C.offline[v] || C.offline[C.fallback], { ignoreVary: true })
            .then(function (res) { return res && stepPage(url, res); });
        });
    }).then(function (res) { return res || Response.error(); });
  });
}

// A step whose data this device holds (app.js/drafts.js keep #main of the step with it):
// the offline page with that step in its <main>; drafts.js fills in the values.
function stepPage(url, offline) {
  var parts = url.pathname.split('/');
  if (parts.length < 4) return offline;
  return store('readonly', function (s) { return s.get(parts.slice(2).join('/')); })
    .catch(function () { return null; })
    .then(function (r) {
      if (!r || !r.h) return offline;
      return offline.text().then(function (html) {
        var title = String(r.ti).replace(/[&<>]/g, function (c) {
          return { '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c];
        });
        html = html.replace(/(<main[^>]*>)[\s\S]*<\/main>/, function (m, open) {
          return open + r.h + '</main>';
        }).replace(/<title>[\s\S]*?<\/title>/, function () { return '<title>' + title + '</title>'; });
        return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
      });
    });
}

self.addEventListener('fetch', function (e) {
  var r = e.request;
  var url = new URL(r.url);
  if (r.method !== 'GET' || url.origin !== self.location.origin || r.headers.has('HX-Request')) return;
  if (r.mode === 'navigate') {
    e.respondWith(page(e, url));
  } else if (C.precache.indexOf(url.pathname) > -1) {
    e.respondWith(caches.match(r, { ignoreVary: true }).then(function (hit) { return hit || fetch(r); }));
  }
});

// ---- the queue of step data (IndexedDB 'jcd', store 'steps'; written by app.js) ----------

function store(mode, fn) {
  return new Promise(function (ok, ko) {
    var open = indexedDB.open('jcd', 1);
    open.onupgradeneeded = function () { open.result.createObjectStore('steps', { keyPath: 'k' }); };
    open.onerror = function () { ko(open.error); };
    open.onsuccess = function () {
      var db = open.result;
      var t = db.transaction('steps', mode);
      var q = fn(t.objectStore('steps'));
      t.oncomplete = function () { db.close(); ok(q && q.result); };
      t.onerror = t.onabort = function () { db.close(); ko(t.error); };
    };
  });
}

// Send the oldest queued step; stop at the first network or server failure (sync retries).
function send() {
  return store('readonly', function (s) { return s.getAll(); }).then(function (all) {
    var r = all.filter(function (x) { return x.q; }).sort(function (a, b) { return a.q - b.q; })[0];
    if (!r) return null;
    var body = new URLSearchParams();
    r.f.concat(r.s ? [r.s] : []).forEach(function (p) { body.append(p[0], p[1]); });
    return fetch(r.u, { method: 'POST', body: body, headers: { 'HX-Request': 'true' } })
      .then(function (res) {
        if (res.status >= 500) throw new Error(res.status);
        return store('readwrite', function (s) {
          if (res.status < 300) return s.delete(r.k);
          r.q = 0; // 409, 422 …: kept on the device; the page shows it when the step is opened
          return s.put(r);
        });
      }).then(send);
  });
}

self.addEventListener('sync', function (e) {
  if (e.tag !== 'jcd-queue') return;
  e.waitUntil(self.clients.matchAll({ type: 'window' }).then(function (list) {
    // An open page sends the queue itself, so that the visitor sees the answer.
    if (list.length) return list.forEach(function (c) { c.postMessage('flush'); });
    var locks = self.navigator.locks;
    return locks ? locks.request('jcd-queue', send) : send();
  }));
});
