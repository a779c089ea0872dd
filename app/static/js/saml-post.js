/* jobcenter.digital test identity provider only (app/identity/testidp.py): sends the SAML
   response on to the service (HTTP-POST binding) as soon as the page has loaded. The
   visible "Weiter" button in the same form does the same without JavaScript. */
(function () {
  'use strict';
  var form = document.querySelector('form[data-saml-post]');
  if (form) form.submit();
}());
