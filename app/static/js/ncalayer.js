// Signing a sign-in challenge with NCALayer, NCA RK's local signing service, over its
// WebSocket (module "kz.gov.pki.knca.basics", method "sign"). No library, no framework.
//
//   NCALayer.signChallenge(challenge, {locale: "kk", allowedStorages: ["PKCS12"]})
//     .then(function (cms) { /* POST {challenge, cms} to /api/v1/auth/eds */ })
//     .catch(function (error) { /* error.code: see below */ });
//
// error.code is "not_running" (nothing answered on 127.0.0.1:13579: NCALayer is not installed
// or not started: the page should explain how to get it from pki.gov.kz), "cancelled" (the
// resident closed the key dialog), "timeout", or "failed" (error.detail has NCALayer's code).
// The page's Content-Security-Policy must allow connect-src wss://127.0.0.1:13579.
(function (window) {
  "use strict";

  var URL = "wss://127.0.0.1:13579/";
  var CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";  // authentication keys only, not signing keys
  var HEARTBEAT = "--heartbeat--";

  function NCALayerError(code, detail) {
    var error = new Error("NCALayer: " + code + (detail ? " (" + detail + ")" : ""));
    error.name = "NCALayerError";
    error.code = code;
    error.detail = detail || null;
    return error;
  }

  function request(challenge, locale, storages) {
    return JSON.stringify({
      module: "kz.gov.pki.knca.basics",
      method: "sign",
      args: {
        allowedStorages: storages || null,  // null: every storage (file, ID card, Kaztoken…)
        format: "cms",
        // The challenge is base64url text; NCALayer decodes `data` and signs the text's bytes.
        data: window.btoa(challenge),
        signingParams: {decode: true, encapsulate: true, digested: false, tsaProfile: null},
        signerParams: {extKeyUsageOids: [CLIENT_AUTH]},
        locale: locale
      }
    });
  }

  // Success is {status: true, body: {result: [cms]}} (a string in some versions); a closed
  // key dialog is status true with an empty body; failures are {status: false, code, message}.
  function signature(reply) {
    if (reply.status === true) {
      var result = reply.body && reply.body.result;
      if (Array.isArray(result)) { result = result[0]; }
      if (typeof result === "string" && result) { return result.replace(/\s+/g, ""); }
      throw NCALayerError("cancelled");
    }
    throw NCALayerError("failed", reply.code || reply.errorCode || reply.message || "unknown");
  }

  function signChallenge(challenge, options) {
    options = options || {};
    var locale = options.locale || document.documentElement.lang || "kk";
    return new Promise(function (resolve, reject) {
      var opened = false, done = false, timer = null, socket;
      function finish(error, value) {
        if (done) { return; }
        done = true;
        if (timer) { window.clearTimeout(timer); }
        try { socket.close(); } catch (ignored) { /* already closed */ }
        if (error) { reject(error); } else { resolve(value); }
      }
      try {
        socket = new window.WebSocket(options.url || URL);
      } catch (error) {
        reject(NCALayerError("not_running", String(error)));
        return;
      }
      if (options.timeoutMs) {
        timer = window.setTimeout(function () { finish(NCALayerError("timeout")); },
                                  options.timeoutMs);
      }
      socket.onopen = function () {
        opened = true;
        socket.send(request(challenge, locale, options.allowedStorages));
      };
      socket.onmessage = function (event) {
        if (event.data === HEARTBEAT) { return; }
        var reply;
        try { reply = JSON.parse(event.data); } catch (error) { return; }
        if (reply.result && reply.result.version) { return; }  // greeting on connect
        try { finish(null, signature(reply)); } catch (error) { finish(error); }
      };
      // Browsers hide why a WebSocket failed; failing before it opened means nothing listens
      // (or the local certificate was refused): either way, NCALayer is not usable.
      socket.onerror = function () {
        finish(NCALayerError(opened ? "failed" : "not_running", "connection error"));
      };
      socket.onclose = function (event) {
        finish(NCALayerError(opened ? "failed" : "not_running", "closed " + event.code));
      };
    });
  }

  window.NCALayer = {signChallenge: signChallenge, URL: URL};
}(window));
