// Draw the process-analytics charts (templates/_analytics.html) with the vendored Apache ECharts.
// Each <div class="chart" data-chart='…'> carries the figures of the table under it as JSON; this
// file only turns them into chart options (SVG renderer), so the page needs no inline script.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var boxes = document.querySelectorAll(".chart[data-chart]");
  var charts = [];

  function days(from, to) {  // the ISO days after `from` up to and including `to`
    var out = [], d = new Date(from + "T00:00:00Z"), end = new Date(to + "T00:00:00Z");
    for (d.setUTCDate(d.getUTCDate() + 1); d <= end && out.length < 800; d.setUTCDate(d.getUTCDate() + 1)) {
      out.push(d.toISOString().slice(0, 10));
    }
    return out;
  }

  var base = {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 24, top: 36, bottom: 36, containLabel: true },
    animation: false
  };

  function merge(extra) {
    var out = {}, k;
    for (k in base) { if (Object.prototype.hasOwnProperty.call(base, k)) { out[k] = base[k]; } }
    for (k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { out[k] = extra[k]; } }
    return out;
  }

  var builders = {
    burndown: function (d) {
      var x = d.days.slice(), projected = d.days.map(function () { return null; });
      if (d.projection) {
        var future = days(d.projection.from, d.projection.to);
        x = x.concat(future);
        projected = projected.concat(future.map(function () { return null; }));
        projected[d.days.length - 1] = d.projection.start;
        projected[x.length - 1] = d.projection.end;
      }
      var series = [
        { name: "累计完成", type: "line", data: d.completed, areaStyle: { opacity: 0.15 },
          markLine: { symbol: "none", label: { formatter: "应报 " + d.total }, data: [{ yAxis: d.total }] } },
        { name: "未完成", type: "line", data: d.remaining }
      ];
      if (d.projection) {
        series.push({ name: "预计完成（按最近 7 天速度）", type: "line", data: projected, connectNulls: true,
          lineStyle: { type: "dashed" }, symbol: "circle" });
      }
      return merge({ xAxis: { type: "category", data: x }, yAxis: { type: "value", minInterval: 1 }, series: series });
    },
    backlog: function (d) {
      return merge({ xAxis: { type: "category", data: d.days }, yAxis: { type: "value", minInterval: 1 },
        series: d.series.map(function (s) { return { name: s.name, type: "line", data: s.data }; }) });
    },
    durations: function (d) {
      return merge({ xAxis: { type: "category", data: d.statuses }, yAxis: { type: "value", name: "小时" },
        series: [{ name: "中位数", type: "bar", data: d.median }, { name: "P90", type: "bar", data: d.p90 }] });
    },
    rates: function (d) {
      return merge({ xAxis: { type: "category", data: d.levels }, yAxis: { type: "value", name: "%", max: 100 },
        series: [{ name: "不通过率（%）", type: "bar", data: d.rates, label: { show: true, position: "top" } }] });
    },
    reasons: function (d) {
      return merge({ tooltip: { trigger: "item" }, grid: { left: 12, right: 32, top: 24, bottom: 12, containLabel: true },
        xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: d.texts.slice().reverse() },
        series: [{ name: "次数", type: "bar", data: d.counts.slice().reverse(), label: { show: true, position: "right" } }] });
    },
    throughput: function (d) {
      return merge({ xAxis: { type: "category", data: d.days }, yAxis: { type: "value", minInterval: 1 },
        series: d.series.map(function (s) { return { name: s.name, type: "bar", stack: "reviews", data: s.data }; }) });
    }
  };

  Array.prototype.forEach.call(boxes, function (box) {
    var data;
    try { data = JSON.parse(box.dataset.chart); } catch (e) { return; }
    var build = builders[data.kind];
    if (!build) { return; }
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption(build(data));
    charts.push(chart);
    box.dataset.rendered = "1";
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
