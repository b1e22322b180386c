// The list view's bulk actions and saved views (views/bulk.py). Without JavaScript
// the bulk form still posts and the export links export every filtered row; this
// adds select-all, showing only the chosen action's inputs, in-page results, exporting
// just the checked rows, and saving the filters currently on screen.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const form = () => document.getElementById("bulk-form");
  const checked = () => [...document.querySelectorAll('input[name="names"][form="bulk-form"]:checked')];
  const listQuery = () => {
    const filters = document.getElementById("list-filters");
    if (!filters) return window.location.search.replace(/^\?/, "");
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v !== "") params.append(k, v);
    return params.toString();
  };

  function showActionInputs() {
    const f = form();
    if (!f) return;
    const action = f.elements.action.value;
    f.querySelectorAll("[data-bulk-for]").forEach((el) => { el.hidden = el.dataset.bulkFor !== action; });
  }
  document.addEventListener("change", (e) => {
    if (e.target.id === "bulk-action") showActionInputs();
    if (e.target.id === "select-all") {
      document.querySelectorAll('input[name="names"][form="bulk-form"]').forEach((c) => { c.checked = e.target.checked; });
    }
  });
  document.addEventListener("DOMContentLoaded", showActionInputs);
  showActionInputs();

  document.addEventListener("submit", async (e) => {
    const f = e.target;
    if (f.id === "saved-view-save") {
      // Save what is on screen now, not what the page was first loaded with.
      f.querySelector("[data-list-query]").value = listQuery();
      return;
    }
    if (f.id !== "bulk-form") return;
    e.preventDefault();
    const result = document.getElementById("bulk-result");
    if (f.elements.action.value === "delete") {
      const message = f.querySelector("[data-confirm-delete]")?.dataset.confirmDelete;
      if (message && !window.confirm(message)) return;
    }
    const r = await fetch(f.action, { method: "POST", body: new FormData(f), credentials: "same-origin",
      headers: { "X-Frappe-CSRF-Token": csrf(), "HX-Request": "true" } });
    const text = await r.text();
    if (r.headers.get("content-type")?.includes("json")) {
      let message = text;
      try { message = JSON.parse(text).message || text; } catch (err) { /* keep the text */ }
      result.textContent = message;
    } else {
      result.innerHTML = text;
    }
    if (r.ok) {
      const select = document.getElementById("select-all");
      if (select) select.checked = false;
      document.getElementById("list-filters")?.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }, true);

  // Export: the checked rows, or (none checked) every row the filters on screen match.
  document.addEventListener("click", (e) => {
    const link = e.target.closest("[data-bulk-export]");
    if (!link) return;
    e.preventDefault();
    const url = new URL(link.href, window.location.href);
    const params = new URLSearchParams(listQuery());
    params.set("format", url.searchParams.get("format"));
    checked().forEach((c) => params.append("names", c.value));
    window.location.href = url.pathname + "?" + params.toString();
  });
})();
