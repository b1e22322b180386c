// The desk's behaviour: small, dependency-free, progressive (every form still posts
// without JavaScript). Conditions (depends_on) are evaluated by the server.
(function () {
  "use strict";
  // The one way a value becomes HTML in the desk's scripts (frappe-charts, for one,
  // writes labels, legends and tooltips as HTML): every value goes through it.
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escapeHtml = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
  // The one toast of the desk: a short message at the bottom of the screen that goes
  // away by itself (Bootstrap's Toast), e.g. after a save; optionally a link to what was
  // made and lines of notices under it (quick entry: who an assignment rule chose).
  function toast(message, style = "success", { link = null, notices = [], delay = 3000 } = {}) {
    const box = document.getElementById("toasts");
    if (!box || !message) return;
    const el = document.createElement("div");
    el.className = `toast align-items-center border-0 text-bg-${style}`;
    el.setAttribute("role", style === "danger" ? "alert" : "status");
    el.setAttribute("aria-live", "polite");
    el.innerHTML = `<div class="d-flex"><div class="toast-body">${escapeHtml(message)}</div>` +
      '<button type="button" class="btn-close btn-close-white me-2 m-auto" data-bs-dismiss="toast"></button></div>';
    const body = el.querySelector(".toast-body");
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.className = "link-light fw-bold";
      a.textContent = link.text;
      body.append(" ", a);
    }
    for (const notice of notices) {
      const line = document.createElement("div");
      line.className = "small mt-1";
      line.dataset.notice = "";
      line.textContent = notice;
      body.append(line);
    }
    el.querySelector(".btn-close").setAttribute("aria-label", box.dataset.close || "Close");
    box.append(el);
    el.addEventListener("hidden.bs.toast", () => el.remove());
    if (window.bootstrap) window.bootstrap.Toast.getOrCreateInstance(el, { delay }).show();
    else el.classList.add("show");
  }
  // A dialog box (Bootstrap's modal) made once and kept in the page: quick entry, the lead
  // conversion; its content is the server's HTML fragment (escaped there).
  function modalBox(id, labelledBy, dialogClass = "modal-dialog modal-dialog-scrollable") {
    let el = document.getElementById(id);
    if (!el) {
      el = document.createElement("div");
      el.className = "modal fade";
      el.id = id;
      el.tabIndex = -1;
      el.setAttribute("aria-labelledby", labelledBy);
      el.setAttribute("aria-hidden", "true");
      el.innerHTML = `<div class="${dialogClass}"></div>`;
      document.body.append(el);
    }
    return el;
  }
  window.desk = Object.freeze(Object.assign({}, window.desk, { escapeHtml, toast, modalBox }));

  // What the last request did, told by the server in a short-lived cookie (a redirect
  // after a save cannot carry a message): show it once.
  const done = document.cookie.match(/(?:^|; )desk_toast=(\w+)/);
  if (done) {
    document.cookie = "desk_toast=; Max-Age=0; Path=/; SameSite=Lax";
    toast(document.getElementById("toasts")?.dataset[done[1]]);
  }

  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const form = () => document.getElementById("doc-form");

  async function post(url, body) {
    const r = await fetch(url, { method: "POST", body, headers: { "X-Frappe-CSRF-Token": csrf() }, credentials: "same-origin" });
    return r.json();
  }

  // Ctrl+S saves the form.
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s" && document.getElementById("save-button")) {
      e.preventDefault();
      document.getElementById("save-button").click();
    }
  });

  // Confirm destructive actions.
  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-confirm]");
    if (b && !window.confirm(b.dataset.confirm)) e.preventDefault();
  });

  // Link fields: search-as-you-type, only documents the user may read (server-side).
  let timer;
  document.addEventListener("input", (e) => {
    const input = e.target.closest("[data-link]");
    if (!input) return;
    clearTimeout(timer);
    // "+ Create a new <DocType>" picked: static/quick_entry.js opens the dialog.
    if (input.dataset.create && input.value === input.dataset.createLabel) {
      input.value = input.dataset.typed || "";
      input.dispatchEvent(new CustomEvent("desk:create", { bubbles: true, detail: { typed: input.value } }));
      return;
    }
    input.dataset.typed = input.value;
    timer = setTimeout(async () => {
      const q = new URLSearchParams({ doctype: input.dataset.link, txt: input.value, page_length: 10 });
      const r = await fetch("/api/method/frappe.desk.search.search_link?" + q, { credentials: "same-origin" });
      if (!r.ok) return;
      const list = document.getElementById(input.getAttribute("list"));
      if (!list) return;
      const options = (await r.json()).message.map((hit) => {
        const o = document.createElement("option");
        o.value = hit.value;
        o.label = hit.label && hit.label !== hit.value ? hit.label : (hit.description || "");
        return o;
      });
      if (input.dataset.create) {  // offered only to users who may create one (decided by the server)
        const o = document.createElement("option");
        o.value = input.dataset.createLabel;
        o.dataset.create = "";
        options.push(o);
      }
      list.replaceChildren(...options);
    }, 200);
  });

  // Child-table grids: add a row from the row template.
  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-add-row]");
    if (!b) return;
    const name = b.dataset.addRow;
    const table = document.querySelector(`table[data-table="${name}"] tbody`);
    const tpl = document.querySelector(`template[data-row-template="${name}"]`);
    const i = table.children.length + 1;
    table.insertAdjacentHTML("beforeend", tpl.innerHTML.replaceAll("__i__", String(i)));
  });

  // Child-table grids: a value typed or chosen in a row (inputs named table-row-field)
  // is announced on the form as "grid-row-change" {table, row, fieldname, input, type},
  // for a DocType's form script (crm_app's quotation_form.js recomputes the totals).
  const gridChange = (e) => {
    const grid = e.target.closest?.("table.grid[data-table]");
    const f = form();
    if (!grid || !f || !f.contains(grid) || !e.target.name) return;
    const fieldname = e.target.name.split("-").slice(2).join("-");
    f.dispatchEvent(new CustomEvent("grid-row-change", { detail: {
      table: grid.dataset.table, row: e.target.closest("tr"), fieldname, input: e.target, type: e.type } }));
  };
  document.addEventListener("input", gridChange);
  document.addEventListener("change", gridChange);

  // Rich text: copy the editable area into its hidden input before posting.
  document.addEventListener("submit", (e) => {
    e.target.querySelectorAll("[data-input]").forEach((ed) => {
      document.getElementById(ed.dataset.input).value = ed.innerHTML;
    });
  }, true);

  // depends_on / mandatory_depends_on / read_only_depends_on, evaluated by the server.
  document.addEventListener("change", async (e) => {
    const f = form();
    if (!f || !f.contains(e.target) || !f.querySelector(".field")) return;
    const url = `/app/${f.dataset.route}/${encodeURIComponent(f.dataset.name)}/__depends`;
    const data = new FormData(f);
    const states = await post(url, data).catch(() => null);
    if (!states) return;
    for (const [field, st] of Object.entries(states)) {
      const box = f.querySelector(`.field[data-fieldname="${field}"]`);
      if (!box) continue;
      box.hidden = st.hidden;
      box.querySelector(".form-label")?.classList.toggle("reqd", st.reqd);
      box.querySelectorAll("input,textarea").forEach((el) => { el.readOnly = st.read_only; });
    }
  });

  // My settings: choosing Persian shows its calendar and digits (Jalali, Persian digits), leaving
  // it the Gregorian calendar and Latin digits, unless the user changed them here; the server
  // applies the same rule (views/settings.py).
  const touched = new Set();
  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.id === "calendar" || t.id === "use_local_digits") touched.add(t.id);
    if (t.id !== "language" || !document.getElementById("use_local_digits")) return;
    const fa = t.value === "fa", wasFa = [...t.options].find((o) => o.defaultSelected)?.value === "fa";
    if (fa === wasFa) return;
    if (!touched.has("calendar")) document.getElementById("calendar").value = fa ? "Jalali" : "Gregorian";
    if (!touched.has("use_local_digits")) document.getElementById("use_local_digits").checked = fa;
  });

  // Attachments: upload, then put the file's URL in the field.
  document.addEventListener("change", async (e) => {
    const input = e.target.closest("[data-attach-for]");
    if (!input || !input.files.length) return;
    const body = new FormData();
    body.append("file", input.files[0]);
    const f = form();
    if (f && f.dataset.name !== "new") { body.append("doctype", f.dataset.doctype); body.append("docname", f.dataset.name); }
    const r = await post("/api/method/upload_file", body);
    if (r.message) document.getElementById(input.dataset.attachFor).value = r.message.file_url;
    else alert(r.message || r.exc_type);
  });
})();
