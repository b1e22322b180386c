// Charts of the report view and of workspace dashboards, drawn with frappe-charts
// (vendor asset charts.js, global `frappe`). Each chart's data comes from the server
// in a data-chart attribute: {type, labels, values, name, color} (or several {name, values} in datasets). The same figures
// are always in the page as text (a table or the card), so nothing depends on this.
// frappe-charts draws axis labels and legends as SVG text, but writes its tooltips as
// HTML: every value that can reach a tooltip is escaped first (desk.js's escapeHtml),
// so a record named <img onerror=...> stays text.
(function () {
  "use strict";
  const TYPES = new Set(["bar", "line", "pie", "percentage", "donut"]);
  const AXIS = new Set(["bar", "line"]);
  function draw(el) {
    if (!window.frappe || !window.frappe.Chart || !window.desk) return;
    const esc = window.desk.escapeHtml;
    let spec;
    try { spec = JSON.parse(el.dataset.chart); } catch (e) { return; }
    if (!spec || !Array.isArray(spec.labels) || !spec.labels.length) return;
    const type = TYPES.has(spec.type) ? spec.type : "bar";
    // Axis charts hand each label to formatTooltipX before the tooltip; pie, donut and
    // percentage charts put the label itself in it, so theirs are escaped up front (a
    // label with < or & then reads escaped in their legend: never run is what matters).
    const labels = spec.labels.map((l) => (AXIS.has(type) ? String(l ?? "") : esc(l)));
    const numbers = (list) => (list || []).map((v) => (typeof v === "number" ? v : Number(v) || 0));
    // A pivot's chart has a dataset per column, a Script Report's maybe several (a forecast's weighted, commit, won ...)
    const datasets = Array.isArray(spec.datasets) && spec.datasets.length
      ? spec.datasets.map((d) => ({ name: esc(String((d && d.name) ?? "")), values: numbers(d && d.values) }))
      : [{ name: esc(spec.name || ""), values: numbers(spec.values) }];
    const options = {
      type,
      height: 240,
      data: { labels, datasets },
      truncateLegends: true,
      axisOptions: { xIsSeries: spec.dates ? 1 : 0 },
      tooltipOptions: { formatTooltipX: (label) => esc(label), formatTooltipY: (value) => esc(value) },
    };
    if (typeof spec.color === "string" && /^#[0-9a-f]{3,8}$|^[a-z-]+$/i.test(spec.color)) options.colors = [spec.color];
    el.replaceChildren();
    const chart = new window.frappe.Chart(el, options);
    // frappe-charts redraws on every resize (a ResizeObserver that fires at once, and the
    // window's resize), also while its first drawing still animates, and then throws.
    // Its own listeners go; ours redraws once the width really changed and settled.
    // (Its first drawing animates for 700 + 400 ms: INIT_CHART_UPDATE_TIMEOUT and
    // CHART_POST_ANIMATE_TIMEOUT.)
    chart.destroy();
    const drawn = Date.now() + 1200;
    let width = el.clientWidth, timer;
    const redraw = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (Date.now() < drawn) { redraw(); return; }
        if (!el.clientWidth || el.clientWidth === width) return;
        width = el.clientWidth;
        chart.draw(true);
      }, Math.max(300, drawn - Date.now()));
    };
    new ResizeObserver(redraw).observe(el);
  }
  // A chart is drawn once its container has a width (a hidden tab or a collapsed card has none).
  function whenSized(el) {
    if (el.clientWidth) { draw(el); return; }
    const watch = new ResizeObserver(() => {
      if (!el.clientWidth) return;
      watch.disconnect();
      draw(el);
    });
    watch.observe(el);
  }
  document.querySelectorAll("[data-chart]").forEach(whenSized);
})();
