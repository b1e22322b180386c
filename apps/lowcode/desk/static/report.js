// Charts of the report view and of workspace dashboards, drawn with frappe-charts
// (vendor asset charts.js, global `frappe`). Each chart's data comes from the server
// in a data-chart attribute: {type, labels, values, name, color}. The same figures
// are always in the page as text (a table or the card), so nothing depends on this.
(function () {
  "use strict";
  function draw(el) {
    if (!window.frappe || !window.frappe.Chart) return;
    let spec;
    try { spec = JSON.parse(el.dataset.chart); } catch (e) { return; }
    if (!spec.labels || !spec.labels.length) return;
    const options = {
      type: spec.type || "bar",
      height: 240,
      data: { labels: spec.labels, datasets: [{ name: spec.name || "", values: spec.values }] },
      truncateLegends: true,
      axisOptions: { xIsSeries: spec.dates ? 1 : 0 },
    };
    if (spec.color) options.colors = [spec.color];
    el.replaceChildren();
    new window.frappe.Chart(el, options);
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
