// Review queue: a header checkbox selects every row checkbox of the same name. Kept out of
// the templates because the CSP forbids inline scripts.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-select-all");
        document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (row) {
          row.checked = box.checked;
        });
      });
    });
  });
})();
