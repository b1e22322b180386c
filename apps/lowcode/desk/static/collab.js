// Behaviour of the collaboration panel, the notifications menu, the workflow builder,
// the e-mail template editor and the print view. Small and dependency-free; every
// form still posts without it. Loaded after desk.js where both are on a page.
(function () {
  "use strict";
  if (window.lowcodeCollab) return; // included more than once on a page
  window.lowcodeCollab = true;

  const debounce = (fn, ms) => {
    let t;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  };
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // htmx leaves error answers (4xx) unswapped; panels marked data-swap-errors show them,
  // since the server answers with the panel and its message.
  document.addEventListener("htmx:beforeSwap", (e) => {
    const target = e.detail.target;
    if (e.detail.xhr.status >= 400 && e.detail.xhr.status < 500 && target && target.closest("[data-swap-errors]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Print view: the print button and selects that apply at once.
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("change", (e) => {
    const select = e.target.closest("[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // E-mail template editor: the document picker searches the chosen DocType.
  document.addEventListener("change", (e) => {
    const select = e.target.closest("[data-link-target]");
    if (!select) return;
    const input = document.getElementById(select.dataset.linkTarget);
    if (input) { input.dataset.link = select.value; input.value = ""; }
  });

  // Workflow builder: live check of a transition's condition.
  const checkCondition = debounce(async (input) => {
    const out = input.parentElement.querySelector("[data-condition-result]");
    if (!out) return;
    const doctype = document.querySelector('#workflow-form [name="document_type"]')?.value || "";
    const q = new URLSearchParams({ condition: input.value, doctype });
    const r = await fetch("/app/workflow-builder/__check?" + q, { credentials: "same-origin" }).catch(() => null);
    if (!r || !r.ok) return;
    const res = await r.json();
    out.textContent = input.value.trim() ? res.message : "";
    out.className = "form-text small " + ({ error: "text-danger", warning: "text-warning-emphasis", ok: "text-success" }[res.level] || "");
    input.classList.toggle("is-invalid", !res.ok);
  }, 300);
  document.addEventListener("input", (e) => {
    const input = e.target.closest("[data-condition-check]");
    if (input) checkCondition(input);
  });

  // Workflow builder: redraw the graph from the unsaved form.
  const redraw = debounce(async (form) => {
    const r = await fetch(form.dataset.graphUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Frappe-CSRF-Token": csrf() },
    }).catch(() => null);
    const box = document.getElementById("workflow-graph");
    if (r && r.ok && box) box.innerHTML = await r.text(); // the server's SVG, labels escaped
  }, 500);
  ["change", "click"].forEach((type) => document.addEventListener(type, (e) => {
    const form = e.target.closest("#workflow-form");
    if (form && (type === "change" || e.target.closest("[data-add-row]"))) redraw(form);
  }));
  document.querySelectorAll("#workflow-form [data-condition-check]").forEach((i) => { if (i.value) checkCondition(i); });

  // Comments: "@" and a few letters offers matching users; choosing one writes "@Full Name ".
  const mentionAt = (area) => {
    const before = area.value.slice(0, area.selectionStart);
    const m = before.match(/(^|\s)@([^\s@]{1,30})$/);
    return m ? { start: before.length - m[2].length - 1, text: m[2] } : null;
  };
  const suggest = debounce(async (area) => {
    const list = area.parentElement.querySelector("[data-mention-list]");
    const at = mentionAt(area);
    if (!list) return;
    if (!at) { list.hidden = true; list.replaceChildren(); return; }
    const q = new URLSearchParams({ doctype: "User", txt: at.text, page_length: 6 });
    const r = await fetch("/api/method/frappe.desk.search.search_link?" + q, { credentials: "same-origin" }).catch(() => null);
    if (!r || !r.ok) return;
    const hits = (await r.json()).message || [];
    list.replaceChildren(...hits.map((hit) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-sm btn-outline-secondary";
      b.setAttribute("role", "option");
      b.textContent = hit.label || hit.value;
      b.title = hit.value;
      b.addEventListener("click", () => {
        const cur = mentionAt(area) || at;
        const name = (hit.label && hit.label !== hit.value) ? hit.label : hit.value;
        area.value = area.value.slice(0, cur.start) + "@" + name + " " + area.value.slice(area.selectionStart);
        list.hidden = true;
        area.focus();
      });
      return b;
    }));
    list.hidden = hits.length === 0;
  }, 200);
  document.addEventListener("input", (e) => {
    const area = e.target.closest("[data-mentions]");
    if (area) suggest(area);
  });
})();
