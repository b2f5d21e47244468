// Behaviour for the staff pages. CSP forbids inline scripts, so pages declare intent with
// data attributes and this file wires it up:
//   data-autosubmit      on a <select>/<input>: submit its form on change
//   data-copy="#id"      on a button: copy the text (or value) of #id to the clipboard
//   data-confirm="text"  on a <form>: ask before submitting
//   data-chart="#json"   on a <div>: render an ECharts option read from a JSON <script> tag
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function wire(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      el.addEventListener("change", function () {
        if (el.form) el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
      });
    });
    root.querySelectorAll("[data-copy]").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.addEventListener("click", function () {
        var src = document.querySelector(btn.dataset.copy);
        if (!src) return;
        var text = src.value !== undefined ? src.value : src.textContent;
        if (navigator.clipboard) {
          navigator.clipboard.writeText(text.trim()).then(function () {
            btn.classList.add("btn-success");
          });
        }
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.wired) return;
      form.dataset.wired = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    if (window.echarts) {
      root.querySelectorAll("[data-chart]").forEach(function (el) {
        if (el.dataset.wired) return;
        var src = document.querySelector(el.dataset.chart);
        if (!src) return;
        el.dataset.wired = "1";
        var chart = window.echarts.init(el);
        chart.setOption(JSON.parse(src.textContent));
        window.addEventListener("resize", function () { chart.resize(); });
      });
    }
  }

  onReady(function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (event) { wire(event.target); });
})();
