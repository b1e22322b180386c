// Quick entry (views/quick_entry.py): the list's "New" and a Link field's "+ Create a new
// <DocType>" open a small dialog rendered by the server; Save posts it, an error comes back
// as the dialog with the field marked, a success as JSON {name, title, url, message, notices}.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  let modal, onSaved;

  function box() {
    const el = window.desk.modalBox("quick-entry", "quick-entry-title");
    if (!modal) {
      modal = new window.bootstrap.Modal(el);
      el.addEventListener("shown.bs.modal", () => el.querySelector("input:not([type=hidden]),select,textarea")?.focus());
    }
    return el;
  }

  // The server's HTML fragment (escaped there) becomes the dialog's content.
  function show(html) {
    const el = box();
    el.querySelector(".modal-dialog").innerHTML = html;
    if (!el.classList.contains("show")) modal.show();
  }

  async function open(url, saved) {
    const r = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "quick-entry" } });
    if (r.redirected || !r.ok) { window.location.href = r.url; return; }  // the full form, or the error page
    onSaved = saved;
    show(await r.text());
  }

  function toast(data) {
    window.desk.toast(data.message, "success", { link: { href: data.url, text: data.title }, notices: data.notices || [],
                                                  delay: 8000 });
  }

  document.addEventListener("submit", async (e) => {
    const f = e.target.closest("#quick-entry-form");
    if (!f) return;
    e.preventDefault();
    const button = f.querySelector("[type=submit]");
    button.disabled = true;
    try {
      const r = await fetch(f.action, { method: "POST", body: new FormData(f), credentials: "same-origin",
                                        headers: { "X-Frappe-CSRF-Token": csrf() } });
      if ((r.headers.get("Content-Type") || "").includes("application/json") && r.ok) {
        const data = await r.json();
        modal.hide();
        toast(data);
        if (onSaved) onSaved(data);
      } else {
        show(await r.text());
      }
    } finally {
      button.disabled = false;
    }
  });

  // "Edit full form" carries what was typed to /app/<doctype>/new.
  document.addEventListener("click", (e) => {
    const a = e.target.closest("[data-edit-full-form]");
    if (!a) return;
    const f = a.closest("form");
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (k !== "csrf_token" && typeof v === "string" && v) q.append(k, v);
    a.href = f.dataset.fullForm + (q.toString() ? "?" + q : "");
  });

  // The list's "New".
  document.addEventListener("click", (e) => {
    const a = e.target.closest("[data-quick-entry]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || !window.bootstrap) return;
    e.preventDefault();
    open(a.dataset.quickEntry, () => {
      if (window.htmx && document.getElementById("list-results")) {
        window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#list-results" });
      }
    });
  });

  // A Link field's "+ Create a new <DocType>" (desk.js sends desk:create when it is picked):
  // the new record's name goes into the field.
  document.addEventListener("desk:create", (e) => {
    const input = e.target;
    const typed = e.detail?.typed || "";
    if (input.dataset.createQuick !== "1" || input.closest("#quick-entry") || !window.bootstrap) {
      // the full form (in a new tab, so this form keeps what was typed)
      window.open(input.dataset.create.replace(/\/__quick$/, "/new"), "_blank", "noopener");
      return;
    }
    const q = new URLSearchParams(typed ? { __text: typed } : {});
    open(input.dataset.create + (q.toString() ? "?" + q : ""), (data) => {
      input.value = data.name;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
})();
