/* jobcenter.digital: the idle-timeout warning with its "extend" button (WCAG 2.2.1).
   Loaded by app.js only when someone is logged in (body[data-session-idle]); uses the
   helpers app.js shares on window.jcd. No texts in here: they come from data-msg-*
   attributes on #session-warning. */
(function () {
  'use strict';

  var doc = document;
  var api = window.jcd;
  if (!api) return;
  var announce = api.announce;
  var focusEl = api.focusEl;
  function byId(id) { return doc.getElementById(id); }

  // Logged in, body[data-session-idle] holds the idle timeout in minutes. The server counts
  // from the last request it noted (at most a minute old), so warn 3 minutes before the end
  // by this page's clock: at least 2 minutes remain to press "Sitzung verlängern".
  var WARN_BEFORE = 180000;
  var idleTimers = [];
  var beforeWarning = null;

  function warningBox() {
    var box = byId('session-warning');
    return box && window.fetch && doc.body.getAttribute('data-session-idle') ? box : null;
  }

  // Unhide the (empty) alert region first, then fill it, so it is announced.
  function showWarning(box, name, control) {
    box.textContent = '';
    box.hidden = false;
    window.requestAnimationFrame(function () {
      var text = doc.createElement('p');
      text.textContent = box.getAttribute('data-msg-' + name);
      box.appendChild(text);
      box.appendChild(control);
      focusEl(box, true);
    });
  }

  function hideWarning(box) {
    var back = beforeWarning;
    box.hidden = true;
    box.textContent = '';
    beforeWarning = null;
    if (back && back !== doc.body && doc.contains(back)) back.focus({ preventScroll: false });
  }

  function warnIdle() {
    var box = warningBox();
    if (!box) return;
    if (box.hidden) beforeWarning = doc.activeElement;
    var button = doc.createElement('button');
    button.type = 'button';
    button.className = 'button button--primary';
    button.textContent = box.getAttribute('data-msg-extend');
    button.addEventListener('click', extendSession);
    showWarning(box, 'warning', button);
  }

  function idleEnded() {
    var box = warningBox();
    if (!box) return;
    if (box.hidden) beforeWarning = doc.activeElement;
    var link = doc.createElement('a');
    link.className = 'button button--primary';
    link.href = '/anmelden?abgelaufen=1&weiter=' + encodeURIComponent(window.location.pathname);
    link.textContent = box.getAttribute('data-msg-login');
    showWarning(box, 'ended', link);
  }

  function scheduleIdle() {
    var box = warningBox();
    var minutes = parseInt(doc.body.getAttribute('data-session-idle'), 10);
    idleTimers.forEach(window.clearTimeout);
    idleTimers = [];
    if (!box || !(minutes > 0)) return;
    var ms = minutes * 60000;
    idleTimers.push(window.setTimeout(warnIdle, Math.max(ms - WARN_BEFORE, 0)));
    idleTimers.push(window.setTimeout(idleEnded, ms));
  }

  function extendSession() {
    var box = warningBox();
    if (!box) return;
    window.fetch(box.getAttribute('data-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': box.getAttribute('data-csrf') }
    }).then(function (answer) {
      if (answer.status !== 204) { idleEnded(); return; }
      hideWarning(box);
      announce(box.getAttribute('data-msg-extended'));
      scheduleIdle();
    }).catch(function () { announce(api.msg('offline')); });
  }

  // Every request to the server extends the session too.
  doc.addEventListener('htmx:afterRequest', function () {
    var box = warningBox();
    if (box && !box.hidden && box.querySelector('button')) hideWarning(box);
    scheduleIdle();
  });

  scheduleIdle();
}());
