/* Carry the referral from our landing URL into the tenant's own sign-up form.
 *
 * Include on the landing page:  <script src="https://<platform>/static/tracking/ref.js" defer></script>
 * It reads `ref` and `click_id` from the page's URL, keeps them for 30 days in a
 * first-party cookie of the tenant's site, and fills any inputs named `referral_code` and
 * `click_id`, so the tenant's backend can send them with its `signup` event.
 */
(function () {
  "use strict";
  var KEEP_DAYS = 30;
  var params = new URLSearchParams(window.location.search);
  function read(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )rp_" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  function keep(name, value) {
    var expires = new Date(Date.now() + KEEP_DAYS * 864e5).toUTCString();
    document.cookie = "rp_" + name + "=" + encodeURIComponent(value) + "; expires=" + expires + "; path=/; SameSite=Lax";
  }
  var values = {};
  [["ref", "referral_code"], ["click_id", "click_id"]].forEach(function (pair) {
    var value = params.get(pair[0]) || read(pair[0]);
    if (value && /^[A-Za-z0-9-]{1,32}$/.test(value)) {
      keep(pair[0], value);
      values[pair[1]] = value;
    }
  });
  function fill() {
    Object.keys(values).forEach(function (name) {
      document.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
        if (!input.value) input.value = values[name];
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
  else fill();
})();
