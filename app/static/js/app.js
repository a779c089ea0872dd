/* jobcenter.digital: focus, announcements and busy state around htmx swaps
   (docs/frontend.md, "app.js duties"). Only listens to DOM events, never calls
   the htmx global: if htmx failed to load, nothing here runs or throws.
   No texts in here: messages come from data-msg-* attributes on #live. */
(function () {
  'use strict';

  var doc = document;

  function byId(id) { return doc.getElementById(id); }

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
  }

  // Failed request: nothing was swapped; say so if the server gave us a text.
  function failed(evt) {
    idle(evt);
    var live = byId('live');
    if (!live) return;
    announce(live.getAttribute(evt.type === 'htmx:responseError' ? 'data-msg-error' : 'data-msg-offline'));
  }

  doc.addEventListener('htmx:beforeRequest', busy);
  doc.addEventListener('htmx:afterRequest', idle);
  doc.addEventListener('htmx:responseError', failed);
  doc.addEventListener('htmx:sendError', failed);
  doc.addEventListener('htmx:timeout', failed);
  doc.addEventListener('htmx:afterSettle', settled);

  // ---- OFFLINE DRAFTS: hook in here later. ----------------------------------
  // e.g. on 'htmx:sendError' from a step form: keep the unsent answers and offer
  // to resend when back online. Note: today no personal data goes into browser
  // storage (historyCacheSize: 0); storing drafts locally needs a decision first.
  // ---------------------------------------------------------------------------

  // Full page load: the server sets autofocus on the error summary; this is the
  // fallback. Do not take focus from anything the user has already focused.
  function loaded() {
    var summary = doc.querySelector('.error-summary');
    var active = doc.activeElement;
    if (summary && (!active || active === doc.body)) focusEl(summary, false);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', loaded);
  else loaded();
}());
