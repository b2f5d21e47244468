/*! Referral widget: a "refer friends" button that opens the customer's portal.
 *
 * <script src="https://<platform>/static/portal/widget.js" defer
 *         data-session-url="<portal session url your server created for this customer>"
 *         data-session-endpoint="/referrals/portal-session"   (optional: GET → {"url": "...", "held_out": false})
 *         data-held-out="{{ held_out }}"   (the portal session's held_out: "true" draws nothing)
 *         data-label="Refer friends, get ¥25"  data-colour="#1f6feb"
 *         data-mode="tab|modal"  data-position="bottom-right|bottom-left|inline"
 *         data-close-label="Close"  data-unavailable-label="unavailable"
 *         data-lang="zh-hans"   (optional: the customer's language, if your page knows it)
 *         data-label-en="…" data-label-zh-hans="…"   (the same words per language)
 *         data-default-lang="en"></script>
 *
 * The page's words come from the data- attributes (the snippet on the settings page fills
 * them in each language); the English defaults only cover a hand-written tag. The language
 * is the customer's (data-lang), else the browser's, else the workspace's default; a word
 * missing in that language falls back to the plain attribute (data-label …).
 *
 * A customer the programs hold out (SEMANTICS §10) gets no widget: with data-held-out="true"
 * (the portal session's `held_out`) nothing is drawn; a session endpoint answering
 * `held_out: true` removes the button.
 *
 * No dependencies, no requests until the button is pressed, styles kept in a shadow root
 * so neither page nor widget restyles the other.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var cfg = script.dataset;
  if (/^true$/i.test(cfg.heldOut || "")) return;
  var mode = cfg.mode === "modal" ? "modal" : "tab";
  var position = cfg.position || "bottom-right";
  var colour = /^#[0-9a-fA-F]{6}$/.test(cfg.colour || "") ? cfg.colour : "#1f6feb";
  // Black or white text, whichever reads at 4.5:1 on the colour (WCAG 2 relative luminance).
  function lum(hex) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(hex.substr(i, 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  var textColour = 1.05 / (lum(colour) + 0.05) >= 4.5 ? "#fff" : "#000";
  var LANGS = { en: "En", "zh-hans": "ZhHans" };
  function langOf(tag) {
    tag = (tag || "").toLowerCase();
    if (LANGS[tag]) return tag;
    if (tag.indexOf("zh") === 0) return /(^zh-(hant|tw|hk|mo))/.test(tag) ? "" : "zh-hans";
    if (tag.indexOf("en") === 0) return "en";
    return "";
  }
  var lang = langOf(cfg.lang);
  var browser = navigator.languages || [navigator.language];
  for (var i = 0; !lang && i < browser.length; i++) lang = langOf(browser[i]);
  lang = lang || langOf(cfg.defaultLang) || "en";
  function word(name) {
    return cfg[name + LANGS[lang]] || cfg[name];
  }
  var label = word("label") || "Refer friends";
  var closeLabel = word("closeLabel") || "Close";
  var unavailableLabel = word("unavailableLabel") || "unavailable";

  function sessionUrl() {
    if (cfg.sessionEndpoint) {
      return fetch(cfg.sessionEndpoint, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("session " + r.status); return r.json(); })
        .then(function (data) {
          if (data.held_out === true) throw new Error("held out");
          return data.url;
        });
    }
    return Promise.resolve(cfg.sessionUrl || "");
  }

  var host = document.createElement("div");
  host.setAttribute("data-referral-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var style = document.createElement("style");
  var fixed = position === "inline" ? "" :
    "position:fixed;bottom:16px;" + (position === "bottom-left" ? "left:16px;" : "right:16px;") + "z-index:2147483000;";
  style.textContent =
    ".btn{" + fixed + "font:600 15px/1.2 system-ui,-apple-system,sans-serif;color:" + textColour + ";background:" + colour +
    ";border:0;border-radius:24px;padding:12px 18px;min-height:44px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}" +
    ".btn:focus{outline:3px solid #111;outline-offset:2px}" +
    ".overlay{position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:2147483001;display:flex;align-items:center;justify-content:center}" +
    ".dialog{position:relative;background:#fff;width:min(480px,100vw);height:min(760px,100vh);border-radius:12px;overflow:hidden}" +
    "@media (max-width:520px){.dialog{width:100vw;height:100vh;border-radius:0}}" +
    ".dialog iframe{border:0;width:100%;height:100%}" +
    ".close{position:absolute;top:6px;right:6px;width:44px;height:44px;border:0;border-radius:22px;background:#fff;font-size:24px;cursor:pointer}";
  root.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "btn";
  button.textContent = label;
  root.appendChild(button);

  var overlay = null;
  function close() {
    if (!overlay) return;
    overlay.remove();
    overlay = null;
    document.removeEventListener("keydown", onKey);
    button.focus();
  }
  function onKey(e) { if (e.key === "Escape") close(); }

  function openModal(url) {
    overlay = document.createElement("div");
    overlay.className = "overlay";
    var dialog = document.createElement("div");
    dialog.className = "dialog";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", label);
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = label;
    var x = document.createElement("button");
    x.type = "button";
    x.className = "close";
    x.setAttribute("aria-label", closeLabel);
    x.textContent = "\u00d7";
    x.addEventListener("click", close);
    overlay.addEventListener("click", function (e) { if (e.target === overlay) close(); });
    dialog.appendChild(frame);
    dialog.appendChild(x);
    overlay.appendChild(dialog);
    root.appendChild(overlay);
    document.addEventListener("keydown", onKey);
    x.focus();
  }

  button.addEventListener("click", function () {
    // Open the tab inside the click so pop-up blockers allow it, then point it at the link.
    var tab = mode === "tab" ? window.open("", "_blank") : null;
    sessionUrl().then(function (url) {
      if (!/^https?:\/\//.test(url || "")) throw new Error("no portal session url");
      if (mode === "modal") openModal(url);
      else if (tab) { tab.opener = null; tab.location.href = url; }
      else window.location.href = url;
    }).catch(function (error) {
      if (tab) tab.close();
      if (error.message === "held out") { host.remove(); return; }
      button.disabled = true;
      button.textContent = label + " \u2014 " + unavailableLabel;
    });
  });

  if (position === "inline") script.parentNode.insertBefore(host, script);
  else (document.body || document.documentElement).appendChild(host);
})();
