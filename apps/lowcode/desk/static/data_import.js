/* The Data Import page (core/doctype/data_import/import_page.py) and form: the progress bar follows
   Frappe's data_import_progress event for this import; when the import ends the page
   reloads to show the result and the failed rows. Only numbers are written into the page. */
(function () {
  "use strict";
  let bar = document.getElementById("import-progress");
  const form = document.getElementById("doc-form");
  if (!bar && form && form.dataset.doctype === "Data Import" && form.dataset.name && form.dataset.name !== "new") {
    // the Data Import form (doctype_js): the same bar above the fields, shown once progress arrives
    bar = document.createElement("div");
    bar.className = "progress mb-3";
    bar.id = "import-progress";
    bar.hidden = true;
    bar.dataset.dataImport = form.dataset.name;
    bar.setAttribute("role", "progressbar");
    const inner = document.createElement("div");
    inner.className = "progress-bar";
    bar.appendChild(inner);
    form.prepend(bar);
  }
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
