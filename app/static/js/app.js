/* jobcenter.digital: focus, announcements and busy state around htmx swaps
   (docs/frontend.md, "app.js duties"), the service worker, and the loader of
   js/drafts.js (offline drafts, docs/offline.md), which only pages with a form step, a
   draft to clear or a queue to send need. Only listens to DOM events, never calls the
   htmx global: if htmx failed to load, nothing here runs or throws.
   No texts in here: messages come from data-msg-* attributes on #live. */
(function () {
  'use strict';

  var doc = document;
  var SW = navigator.serviceWorker;
  var QUEUE_FLAG = 'jcd-queue'; // localStorage: "something is queued" (no data), set by drafts.js
  var loading = false;
  // what drafts.js needs from here; it adds failed(evt) → true when it handled the failure
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
    drafts();
  }

  // Failed request: nothing was swapped. drafts.js queues a step form on the device; a
  // link that cannot load goes to the service worker's offline page; else say so.
  function failed(evt) {
    idle(evt);
    if (api.failed && api.failed(evt)) return;
    var el = evt.detail && evt.detail.elt;
    var offline = evt.type !== 'htmx:responseError';
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
  // Saving on the device: not on a shared device (<body data-device-storage="off">), and
  // only where the browser has IndexedDB, fetch and Promise.
  function storage() {
    return !!(window.indexedDB && window.fetch && window.Promise) &&
      doc.body.getAttribute('data-device-storage') !== 'off';
  }

  function queued() {
    try { return !!window.localStorage.getItem(QUEUE_FLAG); } catch (e) { return false; }
  }

  // Delete everything this site keeps on the device about drafts.
  function wipe() {
    try { window.localStorage.removeItem(QUEUE_FLAG); } catch (e) { /* storage blocked */ }
    if (window.indexedDB) window.indexedDB.deleteDatabase('jcd');
  }

  // Load js/drafts.js once, when this page needs it: a form step in #main, a draft to clear,
  // or step data waiting to be sent.
  function drafts() {
    var body = doc.body;
    if (loading || !storage() || !body.getAttribute('data-drafts')) return;
    if (!doc.querySelector('#main form input[name=version], [data-clear-draft]') && !queued()) return;
    loading = true;
    var script = doc.createElement('script');
    script.src = body.getAttribute('data-drafts');
    script.integrity = body.getAttribute('data-drafts-integrity') || '';
    doc.head.appendChild(script);
  }

  // "Ich nutze ein fremdes Gerät": delete the device data at once (the next page does too).
  doc.addEventListener('submit', function (evt) {
    var button = evt.submitter;
    if (evt.target.hasAttribute('data-device-switch') && button && button.value === 'ja') wipe();
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

  // Full page load: the server sets autofocus on the error summary; this is the fallback.
  // Do not take focus from anything the user has already focused.
  function loaded() {
    var summary = doc.querySelector('.error-summary');
    var active = doc.activeElement;
    if (summary && (!active || active === doc.body)) focusEl(summary, false);
    if (doc.body.getAttribute('data-device-storage') === 'off') wipe();
    drafts();
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', loaded);
  else loaded();
}());
