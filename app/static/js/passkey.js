/* jobcenter.digital: passkeys (WebAuthn) for forms with data-passkey="register|login|second|
   confirm" (docs/identity.md). Loaded by app.js only on pages that have such a form.
   On submit: fetch the options (POST to data-options-url with the CSRF header), ask the
   authenticator (navigator.credentials.create for "register", .get otherwise), write the
   result as JSON into the hidden input "credential" and submit the form again, so the
   server answers like for any form (303, or 422 with the error summary). No texts in here:
   messages come from the form's data-msg-failed / -unsupported / -exists attributes and
   are shown in its [data-passkey-message] region (role="alert"), which gets the focus. */
(function () {
  'use strict';

  if (window.jcdPasskey) return; // loaded twice (a swap brought another passkey form)
  window.jcdPasskey = true;

  var doc = document;
  var running = false;

  // ---- base64url <-> ArrayBuffer ---------------------------------------------------------
  function toB64u(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var text = '';
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return window.btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function fromB64u(value) {
    var text = value.replace(/-/g, '+').replace(/_/g, '/');
    while (text.length % 4) text += '=';
    var binary = window.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: fromB64u(d.id) };
      if (d.transports) out.transports = d.transports;
      return out;
    });
  }

  // ---- options JSON -> what navigator.credentials wants ---------------------------------
  function creationOptions(json) {
    var PKC = window.PublicKeyCredential;
    if (PKC.parseCreationOptionsFromJSON) return PKC.parseCreationOptionsFromJSON(json);
    var o = {};
    for (var key in json) if (Object.prototype.hasOwnProperty.call(json, key)) o[key] = json[key];
    o.challenge = fromB64u(json.challenge);
    o.user = { id: fromB64u(json.user.id), name: json.user.name, displayName: json.user.displayName };
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    var PKC = window.PublicKeyCredential;
    if (PKC.parseRequestOptionsFromJSON) return PKC.parseRequestOptionsFromJSON(json);
    var o = {};
    for (var key in json) if (Object.prototype.hasOwnProperty.call(json, key)) o[key] = json[key];
    o.challenge = fromB64u(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  // ---- the credential -> the JSON py_webauthn parses ------------------------------------
  function serialise(cred) {
    if (typeof cred.toJSON === 'function') {
      try { return JSON.stringify(cred.toJSON()); } catch (e) { /* fall back below */ }
    }
    var r = cred.response;
    var response = { clientDataJSON: toB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64u(r.attestationObject);
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64u(r.authenticatorData);
      response.signature = toB64u(r.signature);
      if (r.userHandle) response.userHandle = toB64u(r.userHandle);
    }
    return JSON.stringify({
      id: cred.id,
      rawId: toB64u(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: typeof cred.getClientExtensionResults === 'function' ?
        cred.getClientExtensionResults() : {},
      response: response
    });
  }

  // ---- messages --------------------------------------------------------------------------
  function show(form, name) {
    var region = form.querySelector('[data-passkey-message]');
    var text = form.getAttribute('data-msg-' + name) || form.getAttribute('data-msg-failed');
    if (!region || !text) return;
    var p = doc.createElement('p');
    p.textContent = text;
    region.textContent = '';
    region.appendChild(p);
    region.hidden = false;
    region.focus();
  }

  function hide(form) {
    var region = form.querySelector('[data-passkey-message]');
    if (region) { region.hidden = true; region.textContent = ''; }
  }

  function fail(form, error) {
    var name = error && error.name === 'InvalidStateError' &&
      form.getAttribute('data-passkey') === 'register' ? 'exists' : 'failed';
    show(form, name);
  }

  // ---- the ceremony ----------------------------------------------------------------------
  function options(form) {
    var token = form.elements.csrf_token ? form.elements.csrf_token.value : '';
    return window.fetch(form.getAttribute('data-options-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': token, 'Accept': 'application/json' }
    }).then(function (response) {
      if (!response.ok) throw new Error('options ' + response.status);
      return response.json();
    });
  }

  function ceremony(form, json) {
    if (form.getAttribute('data-passkey') === 'register') {
      return navigator.credentials.create({ publicKey: creationOptions(json) });
    }
    return navigator.credentials.get({ publicKey: requestOptions(json) });
  }

  function send(form, submitter) {
    form.setAttribute('data-passkey-ready', '');
    if (typeof form.requestSubmit === 'function') {
      // a submit event, so htmx (boosted main) can send it and swap the answer
      if (submitter && submitter.form === form) form.requestSubmit(submitter);
      else form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function start(form, submitter) {
    hide(form);
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
      show(form, 'unsupported');
      return;
    }
    running = true;
    form.setAttribute('aria-busy', 'true');
    options(form)
      .then(function (json) { return ceremony(form, json); })
      .then(function (cred) {
        if (!cred) throw new Error('no credential');
        form.elements.credential.value = serialise(cred);
        running = false;
        form.removeAttribute('aria-busy');
        send(form, submitter);
      })
      .catch(function (error) {
        running = false;
        form.removeAttribute('aria-busy');
        fail(form, error);
      });
  }

  // Capture phase on the document: runs before htmx's own submit listener on the form.
  doc.addEventListener('submit', function (evt) {
    var form = evt.target;
    if (!form || form.tagName !== 'FORM' || !form.hasAttribute('data-passkey')) return;
    if (form.hasAttribute('data-passkey-ready')) { // our own second submit: let it go
      form.removeAttribute('data-passkey-ready');
      return;
    }
    evt.preventDefault();
    evt.stopPropagation();
    if (running) return;
    start(form, evt.submitter || null);
  }, true);

  // A passkey form sent before this file had arrived (app.js held it back): go on now.
  var api = window.jcd;
  if (api) {
    api.passkeyReady = true;
    if (api.passkeyForm) {
      var held = api.passkeyForm;
      api.passkeyForm = null;
      start(held.form, held.submitter);
    }
  }
}());
