/* jobcenter.digital: focus, announcements and busy state around htmx swaps
   (docs/frontend.md), the service worker, the loaders of drafts.js, passkey.js and
   session.js. Only listens to DOM events, never calls the htmx global. No texts in
   here: messages come from data-msg-* attributes. */
(function () {
  'use strict';

  var doc = document;
  var SW = navigator.serviceWorker;
  var DRAFTS_FLAG = 'jcd-drafts';
  var loading = false;
  // shared with drafts.js: it sets ready, and failed(evt) → true when it handled a failure
  var api = window.jcd = { announce: announce, msg: msg };

  function byId(id) { return doc.getElementById(id); }
  function noop() {}

  function msg(name) {
    var live = byId('live');
    return live ? live.getAttribute('data-msg-' + name) : null;
  }

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  // Clear the one live region first, then fill it on the next frame, so the same
  // text is announced again.
  function announce(text) {
    var live = byId('live');
    if (!live || !text) return;
    live.textContent = '';
    window.requestAnimationFrame(function () { live.textContent = text; });
  }

  // The region being replaced (#main for every request today).
  function region(evt) {
    var t = evt.detail && evt.detail.target;
    return t && t.nodeType === 1 ? t : byId('main');
  }

  function busy(evt) {
    var el = region(evt);
    if (el) el.setAttribute('aria-busy', 'true');
  }

  function idle(evt) {
    var el = region(evt);
    if (el) el.removeAttribute('aria-busy');
  }

  function focusEl(el, scroll) {
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    el.focus({ preventScroll: true });
    if (scroll) el.scrollIntoView({ block: 'start', behavior: reducedMotion() ? 'auto' : 'smooth' });
  }

  // After a swap into #main: focus the error summary, else the h1; announce the title.
  // htmx fires afterSettle on the target and on each inserted child (it bubbles): act once.
  function settled(evt) {
    var main = byId('main');
    if (!main || evt.target !== main) return;
    var el = main.querySelector('.error-summary') || main.querySelector('h1');
    if (el) {
      focusEl(el, false);
      // keep the progress box in view: scroll to the top of the new content, not the h1
      (el.classList.contains('error-summary') ? el : main).scrollIntoView({ block: 'start', behavior: reducedMotion() ? 'auto' : 'smooth' });
    }
    announce(doc.title);
    api.shown = Date.now(); // drafts.js: device data older than this may be restored
    drafts();
  }

  // Failed request: nothing was swapped. A form step is queued on the device (drafts.js),
  // a link goes to the service worker's offline page; else say so.
  function failed(evt) {
    idle(evt);
    if (api.failed && api.failed(evt)) return;
    var detail = evt.detail || {};
    var el = detail.elt;
    var offline = evt.type !== 'htmx:responseError';
    // the connection failed (or a gateway said so) while sending a form step: queue it
    var down = offline || (detail.xhr && detail.xhr.status > 501);
    var form = stepForm((detail.requestConfig || {}).elt);
    if (down && form && remember(form, null, true)) return;
    if (offline && el && el.tagName === 'A' && SW && SW.controller) {
      window.location.assign(el.href);
      return;
    }
    announce(msg(offline ? 'offline' : 'error'));
  }

  doc.addEventListener('htmx:beforeRequest', busy);
  doc.addEventListener('htmx:afterRequest', idle);
  doc.addEventListener('htmx:responseError', failed);
  doc.addEventListener('htmx:sendError', failed);
  doc.addEventListener('htmx:timeout', failed);
  doc.addEventListener('htmx:afterSettle', settled);

  // ---- Offline drafts (docs/offline.md) -------------------------------------------------
  // js/drafts.js keeps a form step's input on the device. Loaded only when needed (a first
  // visit stays within its request budget): at once if the device holds drafts, else at the
  // first input in, or submit of, a form step; until then this remembers the form (api.form,
  // api.button, api.queue) for it. Not on a shared device, only with IndexedDB and fetch.
  function storage() {
    return !!(window.indexedDB && window.fetch && window.Promise) &&
      doc.body.getAttribute('data-device-storage') !== 'off';
  }

  // localStorage DRAFTS_FLAG: "this device holds drafts" (no data), kept by drafts.js
  function held() {
    try { return !!window.localStorage.getItem(DRAFTS_FLAG); } catch (e) { return false; }
  }

  // Delete everything this site keeps on the device about drafts.
  function wipe() {
    try { window.localStorage.removeItem(DRAFTS_FLAG); } catch (e) { /* storage blocked */ }
    if (window.indexedDB) window.indexedDB.deleteDatabase('jcd');
  }

  // Add the script of body[data-<name>] with its SRI hash.
  function addScript(name, failed) {
    var src = doc.body.getAttribute('data-' + name);
    if (!src) return false;
    var script = doc.createElement('script');
    script.src = src;
    script.integrity = doc.body.getAttribute('data-' + name + '-integrity') || '';
    script.onerror = failed;
    doc.head.appendChild(script);
    return true;
  }

  function load() {
    if (loading || !storage()) return;
    loading = addScript('drafts', function () { // offline before it was ever loaded: say so
      loading = false;
      if (api.queue) announce(msg('offline'));
      api.queue = false;
    });
  }

  function drafts() { if (held()) load(); }

  // A form step carries the draft's version.
  function stepForm(form) {
    return form && form.tagName === 'FORM' && form.elements.version ? form : null;
  }

  // Until drafts.js is there: remember the form whose input is to be kept, and load it.
  function remember(form, button, queue) {
    if (api.ready || !storage()) return false;
    api.form = form;
    api.button = button || null;
    api.queue = api.queue || queue;
    load();
    return true;
  }

  function typed(evt) {
    var form = stepForm(evt.target.form);
    if (form) remember(form, null, false);
  }
  doc.addEventListener('input', typed);
  doc.addEventListener('change', typed);

  // Capture phase, before htmx. "Ich nutze ein fremdes Gerät": delete the device data at
  // once (the next page does too). A form step sent while offline: queue it, send nothing.
  doc.addEventListener('submit', function (evt) {
    var form = evt.target, button = evt.submitter;
    if (form.hasAttribute('data-device-switch') && button && button.value === 'ja') wipe();
    if (!stepForm(form)) return;
    var offline = navigator.onLine === false;
    if (remember(form, button, offline) && offline) {
      evt.preventDefault();
      evt.stopPropagation();
    }
  }, true);
  window.addEventListener('online', drafts);

  if (SW) {
    SW.addEventListener('message', function (evt) { if (evt.data === 'flush') drafts(); });
    // After the page has loaded, so the worker's precaching never competes with the page.
    window.addEventListener('load', function () {
      SW.register('/sw.js').then(function () { return SW.ready; }).then(function (reg) {
        // the worker shows its offline page in the visitor's language variant
        if (reg.active) reg.active.postMessage({ lang: doc.documentElement.lang });
      }).catch(noop);
    });
  }

  // ---- passkey.js where a [data-passkey] form is, session.js (idle warning) when logged
  // in (docs/identity.md).
  var lazyLoaded = {};
  function lazy(name, wanted) {
    if (lazyLoaded[name] || !wanted) return;
    lazyLoaded[name] = addScript(name + '-js', function () {
      lazyLoaded[name] = false;
      var held = api.passkeyForm; // not loaded: send it, the server explains
      api.passkeyForm = null;
      if (held && name === 'passkey') held.form.submit();
    });
  }
  // A passkey form sent before passkey.js is there: held, passkey.js takes it over.
  doc.addEventListener('submit', function (evt) {
    var form = evt.target;
    if (api.passkeyReady || !form.hasAttribute || !form.hasAttribute('data-passkey')) return;
    evt.preventDefault();
    evt.stopPropagation();
    api.passkeyForm = { form: form, submitter: evt.submitter || null };
    lazy('passkey', true);
  }, true);
  function lazyScripts() {
    lazy('passkey', doc.querySelector('[data-passkey]'));
    lazy('session', doc.body.getAttribute('data-session-idle'));
  }
  doc.addEventListener('htmx:afterSettle', lazyScripts);
  api.focusEl = focusEl;

  // Full page load: the server sets autofocus on the error summary; this is the fallback.
  // Do not take focus from anything the user has already focused.
  function loaded() {
    var summary = doc.querySelector('.error-summary');
    var active = doc.activeElement;
    if (summary && (!active || active === doc.body)) focusEl(summary, false);
    if (doc.body.getAttribute('data-device-storage') === 'off') wipe();
    drafts();
    lazyScripts();
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', loaded);
  else loaded();
}());
