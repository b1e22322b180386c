/* The Data Import page (core/doctype/data_import/import_page.py): the progress bar follows
   Frappe's data_import_progress event for this import; when the import ends the page
   reloads to show the result and the failed rows. Only numbers are written into the page. */
(function () {
  "use strict";
  const bar = document.getElementById("import-progress");
  if (!bar || !window.lowcode || !window.lowcode.realtime) return;
  const name = bar.dataset.dataImport;
  const fill = bar.querySelector(".progress-bar");
  window.lowcode.realtime.subscribe("doc_subscribe", "Data Import", name);
  window.lowcode.realtime.on("data_import_progress", (data) => {
    if (!data || data.data_import !== name) return;
    const total = Math.max(Number(data.total) || 0, 1);
    const current = Math.min(Number(data.current) || 0, total);
    bar.hidden = false;
    bar.setAttribute("aria-valuenow", String(current));
    fill.style.width = `${Math.round((100 * current) / total)}%`;
    fill.textContent = `${current} / ${total}`;
    if (current >= total) setTimeout(() => window.location.reload(), 800);
  });
  // Without the realtime service, a running import's page looks again every few seconds.
  if (bar.dataset.running === "1" && !window.lowcode.realtime.connected) {
    setTimeout(() => window.location.reload(), 5000);
  }
}());
