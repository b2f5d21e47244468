// The portal's only script (CSP: no inline scripts). Pages declare intent with attributes:
//   data-copy="#id"   copy the value/text of #id, with a spoken and visible confirmation
//   data-share="<channel>" data-enrollment="<id>"   record the tap as a `share` event
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function record(channel, enrollment) {
    if (!channel || !enrollment) return;
    var body = new FormData();
    body.append("channel", channel);
    body.append("enrollment", enrollment);
    // keepalive: the tap usually navigates away (a share app or a download) at once.
    try {
      fetch("/portal/share/", {
        method: "POST",
        body: body,
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRFToken": csrf }
      });
    } catch (e) { /* recording must never block sharing */ }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      ok ? resolve() : reject();
    });
  }

  document.addEventListener("click", function (event) {
    var copyBtn = event.target.closest("[data-copy]");
    if (copyBtn) {
      var src = document.querySelector(copyBtn.getAttribute("data-copy"));
      if (src) {
        var text = (src.value !== undefined ? src.value : src.textContent).trim();
        copyText(text).then(function () {
          var label = copyBtn.getAttribute("data-copied") || document.body.getAttribute("data-copied") || "Copied";
          copyBtn.classList.add("is-done");
          copyBtn.setAttribute("data-label", copyBtn.textContent);
          copyBtn.textContent = label;
          var status = copyBtn.closest(".card") && copyBtn.closest(".card").querySelector("[data-copy-status]");
          if (status) status.textContent = label;
          setTimeout(function () {
            copyBtn.classList.remove("is-done");
            copyBtn.textContent = copyBtn.getAttribute("data-label");
          }, 2000);
        }, function () {
          src.focus();
          if (src.select) src.select();
        });
      }
    }
    var shareEl = event.target.closest("[data-share]");
    if (shareEl) {
      // <summary> toggles open and closed: count only the opening.
      if (shareEl.tagName === "SUMMARY" && shareEl.parentElement.open) return;
      record(shareEl.getAttribute("data-share"), shareEl.getAttribute("data-enrollment"));
    }
  });
})();
