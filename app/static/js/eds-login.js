// The login page's "Sign in with EDS": get a one-time challenge, have NCALayer sign it, post
// the signature with the page's form (CSRF token included). Messages come from the page, in
// its language; when NCALayer does not answer, the page explains how to install it.
(function () {
  "use strict";

  function ready() {
    var form = document.getElementById("eds-form");
    var button = document.getElementById("eds-button");
    if (!form || !button || !window.NCALayer) { return; }
    var status = document.getElementById("eds-status");
    var install = document.getElementById("eds-install");

    function say(id) {
      var source = document.getElementById(id);
      status.textContent = source ? source.textContent : "";
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      install.hidden = true;
      say("eds-message-working");
      fetch(form.getAttribute("data-challenge-url"), {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"}, body: "{}"
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw {code: "server", message: body.error && body.error.message}; }
          return body.challenge;
        });
      }).then(function (challenge) {
        return window.NCALayer.signChallenge(challenge, {locale: form.getAttribute("data-locale")})
          .then(function (cms) {
            form.elements.challenge.value = challenge;
            form.elements.cms.value = cms;
            form.submit();
          });
      }).catch(function (error) {
        button.disabled = false;
        if (error && error.code === "not_running") {
          status.textContent = "";
          install.hidden = false;
        } else if (error && error.code === "cancelled") {
          say("eds-message-cancelled");
        } else if (error && error.code === "server" && error.message) {
          status.textContent = error.message;
        } else {
          say("eds-message-failed");
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());
