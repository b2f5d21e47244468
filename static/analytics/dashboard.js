// Analytics dashboards: draws every [data-chart] element with ECharts from the JSON that the
// page embeds with json_script (the CSP forbids inline scripts), submits the filter form when
// a filter changes (filters live in the URL), and polls a running export's progress.
(function () {
  "use strict";

  function sumOf(values) {
    var total = 0;
    values.forEach(function (v) {
      if (Array.isArray(v)) { total += sumOf(v); }
      else if (v && typeof v === "object") { total += Number(v.value) || 0; }
      else { total += Number(v) || 0; }
    });
    return total;
  }

  function percent(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }

  function option(spec, width) {
    var tooltip = { trigger: spec.type === "pie" || spec.type === "funnel" || spec.type === "steps" ? "item" : "axis" };
    if (spec.type === "funnel") {
      return {
        tooltip: tooltip,
        series: [{
          type: "funnel", sort: "none", gap: 2, minSize: "8%",
          label: { show: true, position: "inside", formatter: "{b}: {c}" },
          data: spec.data
        }]
      };
    }
    if (spec.type === "steps") {
      // The funnel as ordered steps, first at the top: bar length is the step's count, the
      // label its conversion from the step before (a count per unit where it can exceed it).
      return {
        tooltip: tooltip,
        grid: { left: 90, right: 150, top: 10, bottom: 10 },
        xAxis: { type: "value", show: false },
        yAxis: { type: "category", inverse: true, data: spec.data.map(function (d) { return d.name; }) },
        series: [{
          type: "bar",
          data: spec.data.map(function (d) { return { value: d.value, note: d.note }; }),
          label: {
            show: true, position: "right",
            formatter: function (p) { return p.value + (p.data.note ? " · " + p.data.note : ""); }
          }
        }]
      };
    }
    if (spec.type === "pie") {
      return { tooltip: tooltip, legend: { bottom: 0 }, series: [{ type: "pie", radius: ["40%", "70%"], data: spec.data }] };
    }
    if (spec.type === "heatmap") {
      var values = spec.data.map(function (d) { return d[2]; });
      return {
        tooltip: { position: "top", formatter: function (p) { return spec.x[p.value[0]] + " · " + spec.y[p.value[1]] + ": " + percent(p.value[2]); } },
        grid: { left: 110, right: 20, top: 10, bottom: 90 },
        xAxis: { type: "category", data: spec.x },
        yAxis: { type: "category", data: spec.y },
        visualMap: { min: 0, max: Math.max.apply(null, values.concat([0.01])), calculable: true, orient: "horizontal", left: "center", bottom: 0, show: values.length > 0 },
        series: [{ type: "heatmap", data: spec.data, label: { show: true, formatter: function (p) { return percent(p.value[2]); } } }]
      };
    }
    var kind = spec.type === "bars" ? "bar" : "line";
    var axis = { type: "value" };
    if (spec.percent) { axis.axisLabel = { formatter: function (v) { return percent(v); } }; }
    if (spec.money) { axis.axisLabel = { formatter: function (v) { return v.toLocaleString(); } }; }
    return {
      tooltip: tooltip,
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 20, bottom: 60 },
      // Bars name categories (channels, regions): every one is labelled, slanted when the
      // chart is narrow, rather than some dropped. Lines over days keep echarts' spacing.
      xAxis: kind === "bar"
        ? { type: "category", data: spec.x, axisLabel: { interval: 0, rotate: width < 480 && spec.x.length > 3 ? 35 : 0 } }
        : { type: "category", data: spec.x },
      yAxis: axis,
      series: spec.series.map(function (s) {
        var out = { name: s.name, type: kind, data: s.data, connectNulls: true };
        if (spec.stack) { out.stack = "total"; }
        if (kind === "line") { out.showSymbol = spec.x.length < 40; }
        return out;
      })
    };
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.echarts) { return; }
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec, el.clientWidth), true);
    var data = spec.series ? spec.series.map(function (s) { return s.data; }) : spec.data;
    // What the chart shows, for tests and for anyone checking a shared view.
    el.setAttribute("data-rendered-total", String(sumOf(data)));
    el.setAttribute("data-rendered-points", String(spec.x ? spec.x.length : (spec.data || []).length));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function autosubmit(form) {
    form.querySelectorAll("select, input").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.type === "date" && !input.value) { return; }
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  }

  function poll(el) {
    var url = el.getAttribute("data-export-status");
    var bar = el.querySelector(".progress-bar");
    var link = el.querySelector("[data-export-download]");
    var count = el.querySelector("[data-export-count]");
    function tick() {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (job) {
        bar.style.width = job.percent + "%";
        if (count && job.total) { count.textContent = job.done.toLocaleString() + " / " + job.total.toLocaleString(); }
        bar.setAttribute("aria-valuenow", job.percent);
        el.setAttribute("data-status", job.status);
        if (job.download) {
          link.href = job.download;
          link.classList.remove("d-none");
        } else if (job.status !== "failed") {
          window.setTimeout(tick, 1000);
        }
      });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.querySelectorAll("form[data-autosubmit]").forEach(autosubmit);
    document.querySelectorAll("[data-export-status]").forEach(poll);
  });
})();
