/* jobcenter.digital: offline drafts (docs/offline.md). Loaded by app.js when needed: at
   once if the device holds drafts (localStorage 'jcd-drafts', no data in it), else at the
   first input in, or submit of, a form step; only when the device may keep data (not
   <body data-device-storage="off">).

   IndexedDB 'jcd', store 'steps', one record per draft id + step key:
   {k: "<draft id>/<step key>", d: draft id, u: the form's action, f: [[name, value], …]
    (csrf_token and version included, files never), s: [name, value] of the submit button,
    b: baseVersion (the form's version), t: saved at, q: queued at (0: not queued),
    h: the HTML of #main and ti: the title (the worker shows the step again offline)}
   No texts in here: they come from data-msg-* attributes on #live (app.js: jcd.msg). */
(function () {
  'use strict';
  const doc = document, W = window, nav = navigator, SW = nav.serviceWorker, J = W.jcd;
  const FLAG = 'jcd-drafts';
  const MAX_AGE = 183 * 864e5; // the server keeps a draft 6 months
  let timer, button, rebase, sent, flushing;
  const $ = id => doc.getElementById(id);
  const noop = () => {};
  const each = (list, fn) => Array.prototype.forEach.call(list, fn);
  const on = () => doc.body.getAttribute('data-device-storage') !== 'off';
  const flag = set => { try { if (set) localStorage.setItem(FLAG, '1'); else localStorage.removeItem(FLAG); } catch (e) { /* blocked */ } };

  const db = (mode, fn) => new Promise((ok, ko) => {
    const open = indexedDB.open('jcd', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('steps', { keyPath: 'k' });
    open.onerror = () => ko(open.error);
    open.onsuccess = () => {
      const d = open.result, t = d.transaction('steps', mode), q = fn(t.objectStore('steps'));
      t.oncomplete = () => { d.close(); ok(q && q.result); };
      t.onerror = t.onabort = () => { d.close(); ko(t.error); };
    };
  });
  // every record through fn(record, store) in one transaction; resolves with the list
  const all = fn => db('readwrite', s => {
    const q = s.getAll();
    q.onsuccess = () => each(q.result, r => fn(r, s));
    return q;
  });
  // no drafts left: app.js need not load this on the next page
  const tidy = () => db('readonly', s => s.count()).then(n => { if (!n) flag(false); }).catch(noop);
  const drop = k => db('readwrite', s => { s.delete(k); }).then(tidy, noop);
  const clearDraft = d => all((r, s) => r.d === d && s.delete(r.k)).then(tidy, noop);

  // A step URL is /<service>/<draft id>/<step key>: "<draft id>/<step key>"
  const keyOf = url => {
    const p = new URL(url, location.href).pathname.split('/');
    return p.length > 3 ? p.slice(2).join('/') : '';
  };
  // a form step (also when htmx has already swapped it out): it carries the draft's version
  const stepForm = f => f && f.tagName === 'FORM' && f.elements.version && keyOf(f.getAttribute('action')) ? f : null;
  const mainForm = () => stepForm(doc.querySelector('#main form.form'));
  const version = f => +f.elements.version.value;
  const fields = f => {
    const out = [];
    new FormData(f).forEach((v, n) => typeof v === 'string' && out.push([n, v]));
    return out;
  };
  const same = (a, b) => {
    const sig = list => JSON.stringify(list.filter(p => p[0] !== 'csrf_token' && p[0] !== 'version').sort());
    return sig(a) === sig(b);
  };
  function fill(f, list) {
    each(f.elements, el => {
      const t = el.type, v = list.filter(p => p[0] === el.name).map(p => p[1]);
      if (!el.name || /hidden|file|submit|button/.test(t)) return;
      if (t === 'checkbox' || t === 'radio') el.checked = v.includes(el.value);
      else if (v.length) el.value = v[0];
    });
  }

  function save(f, queued) {
    clearTimeout(timer);
    timer = 0;
    const k = keyOf(f.getAttribute('action')), copy = $('main').cloneNode(true);
    const b = button && button.form === f && button.name ? [button.name, button.value] : null;
    each(copy.querySelectorAll('[data-pwa-notice]'), n => n.remove());
    const rec = { k, d: k.split('/')[0], u: f.getAttribute('action'), f: fields(f), s: b,
      b: version(f), t: Date.now(), q: queued || 0, h: copy.innerHTML, ti: doc.title };
    flag(true);
    return db('readwrite', s => {
      const old = s.get(k);
      old.onsuccess = () => {
        if (!queued && old.result) rec.q = old.result.q; // typing on keeps it queued
        s.put(rec);
      };
    }).catch(noop);
  }

  // A visible notice in #main above the form (else at the top), also announced in #live.
  function notice(name, kind) {
    const m = $('main'), f = mainForm(), text = J.msg(name);
    if (!m || !text) return;
    const n = m.querySelector('[data-pwa-notice]') || doc.createElement('div');
    n.className = 'notice notice--' + kind;
    n.setAttribute('data-pwa-notice', name);
    n.textContent = '';
    n.appendChild(doc.createElement('p')).textContent = text;
    if (f) f.before(n); else m.prepend(n);
    J.announce(text);
  }

  function queue(f) {
    save(f, Date.now())
      .then(() => SW && SW.controller && SW.ready.then(r => r.sync && r.sync.register('jcd-queue')))
      .catch(noop);
    notice('queued', 'warning');
  }

  // POST a stored step as htmx would. A queued step: if the visitor is still on it, swap the
  // answer into #main (the next step, the step with errors, the conflict) and push its URL.
  // A step sent because the draft changed elsewhere: only the conflict (409) is shown.
  // A network error or 5xx rejects: the record stays queued.
  function send(r) {
    const body = new URLSearchParams(), token = doc.querySelector('input[name=csrf_token]');
    r.f.concat(r.s ? [r.s] : []).forEach(p => {
      body.append(p[0], p[0] === 'csrf_token' && token ? token.value : p[1]);
    });
    return fetch(r.u, { method: 'POST', body, headers: { 'HX-Request': 'true', 'HX-Current-URL': location.href } })
      .then(res => {
        if (res.status >= 500) throw new Error(res.status);
        const ok = res.status < 300, queued = !!r.q, show = queued || res.status === 409;
        const url = new URL(res.headers.get('HX-Push-Url') || res.url, location.href).href;
        return db('readwrite', s => {
          if (ok) s.delete(r.k); else { r.q = 0; s.put(r); } // 409, 422, …: kept, not queued
        }).then(tidy).then(() => res.text()).then(html => {
          const f = mainForm();
          if (!show || !f || keyOf(f.getAttribute('action')) !== r.k) return;
          if (ok) { rebase = { d: r.d, v: r.b }; sent = true; } // for opened() after the swap
          if (!W.htmx) { location.assign(url); return; }
          W.htmx.swap($('main'), html, { swapStyle: 'innerHTML' });
          if (ok && url !== location.href) history.pushState({ htmx: true }, '', url);
        });
      });
  }

  // Send the queue, oldest first; one sender at a time (also across tabs and the worker).
  function flush() {
    if (flushing || !on() || !nav.onLine) return;
    flushing = true;
    const next = () => db('readonly', s => s.getAll()).then(list => {
      const r = list.filter(x => x.q).sort((a, b) => a.q - b.q)[0];
      return r ? send(r).then(next) : tidy();
    });
    // failed (the server unreachable though the browser says online): try again in 30 s
    (nav.locks ? nav.locks.request('jcd-queue', next) : next())
      .then(noop, () => setTimeout(flush, 3e4)).then(() => { flushing = false; });
  }

  // Something new in #main (page load or swap). A receipt: clear its draft. A step: restore
  // newer device data (same baseVersion), or, if the draft changed elsewhere (older
  // baseVersion), post it with its old version: the server shows both versions (409).
  function opened() {
    const done = doc.querySelector('[data-clear-draft]:not(form)'), f = mainForm(), rb = rebase;
    rebase = null;
    if (done) clearDraft(done.getAttribute('data-clear-draft'));
    if (sent) { sent = false; notice('sent', 'success'); }
    if (!f || !on() || $('main').querySelector('.conflict')) return;
    // typed while the device was read: that input wins, nothing is filled over it
    const k = keyOf(f.getAttribute('action')), v = version(f), atOpen = fields(f);
    const untouched = () => same(atOpen, fields(f));
    all((r, s) => {
      // this device's own save moved the draft on by one: its other steps stay current
      if (rb && r.d === rb.d && r.b === rb.v && v === rb.v + 1) { r.b = v; s.put(r); }
      if (Date.now() - r.t > MAX_AGE) s.delete(r.k);
    }).then(list => {
      const r = list.find(x => x.k === k && Date.now() - x.t <= MAX_AGE);
      if (!r) return null;
      // written since this step is on screen: that is what the form shows (typed meanwhile)
      const here = r.t >= (J.shown || performance.timeOrigin);
      if (r.q) { // waiting to be sent: show it, send it when we can
        if (!here && untouched()) { fill(f, r.f); notice('queued', 'warning'); }
        return flush();
      }
      if (here || same(r.f, fields(f)) || !untouched()) return null;
      if (r.b >= v) { fill(f, r.f); notice('restored', 'success'); return null; }
      return send(r);
    }).catch(noop);
  }

  // app.js asks first when an htmx request failed: a step form goes into the queue.
  J.failed = evt => {
    const d = evt.detail || {}, f = stepForm((d.requestConfig || {}).elt || d.elt);
    const down = evt.type !== 'htmx:responseError' || (d.xhr && d.xhr.status > 501);
    if (!down || !f) return false;
    if (on()) queue(f); else notice('offline', 'warning');
    return true;
  };

  // Saved on the server: the device copy of that step is not needed any more.
  // (After a swap htmx fires afterRequest on an ancestor: the form is in requestConfig.elt.)
  doc.addEventListener('htmx:afterRequest', evt => {
    const d = evt.detail || {}, c = d.requestConfig || {}, f = stepForm(c.elt);
    if (f && d.xhr && d.xhr.status >= 200 && d.xhr.status < 300 && c.verb === 'post') {
      rebase = { d: keyOf(f.getAttribute('action')).split('/')[0], v: version(f) };
      drop(keyOf(f.getAttribute('action')));
    }
  });
  doc.addEventListener('htmx:afterSettle', evt => { if (evt.target === $('main')) opened(); });

  // Save while typing (debounced); at once when the page is hidden or closed (phones stop
  // background tabs).
  let typing = null;
  const typed = evt => {
    const f = stepForm(evt.target.form);
    if (!f || !on()) return;
    clearTimeout(timer);
    typing = f;
    timer = setTimeout(() => save(f), 400);
  };
  const now = () => { if (timer && typing && typing.isConnected) save(typing); typing = null; };
  doc.addEventListener('input', typed);
  doc.addEventListener('change', typed);
  doc.addEventListener('visibilitychange', () => { if (doc.hidden) now(); });
  W.addEventListener('pagehide', now);

  // Capture phase, before htmx. Known to be offline: queue at once, send nothing; else save
  // now (a failed request finds it stored). "Entwurf löschen": clear that draft.
  doc.addEventListener('submit', evt => {
    const f = evt.target, clear = f.getAttribute('data-clear-draft');
    button = evt.submitter;
    if (clear) clearDraft(clear);
    if (!stepForm(f) || !on()) return;
    if (nav.onLine) { save(f); return; }
    evt.preventDefault();
    evt.stopPropagation();
    queue(f);
  }, true);

  // The conflict's "Gespeicherte Version behalten": forget this device's version of the step.
  doc.addEventListener('click', evt => {
    const el = evt.target.closest && evt.target.closest('[data-discard-device]');
    if (el) drop(el.getAttribute('data-discard-device'));
  }, true);

  W.addEventListener('online', flush);
  if (SW) SW.addEventListener('message', evt => { if (evt.data === 'flush') flush(); });

  // Take over from app.js: what happened before this was loaded.
  J.ready = true;
  button = J.button;
  if (J.form && J.queue) queue(J.form);
  else if (J.form) save(J.form);
  J.form = J.button = null;
  J.queue = false;
  opened();
  flush();
}());
