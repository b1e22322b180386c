/* The Print Format form: the template editor beside a live preview (side by side from
   992 px, one above the other on phones). The panel comes from the server
   (/app/print-format-preview?doc_type=, translated); while the admin types, the form's
   draft is posted there (debounced) and the printed page it answers goes into a sandboxed
   frame's srcdoc, so a template's scripts never run; an error is shown as text. Nothing
   is saved by previewing. */
(function () {
  "use strict";
  const form = document.getElementById("doc-form");
  const editor = form && form.querySelector('textarea[name="html"]');
  if (!editor) return;
  const URL = "/app/print-format-preview";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const doctypeInput = () => form.querySelector('[name="doc_type"]');

  // The split view: the HTML field on one side, the preview on the other.
  const field = editor.closest(".field") || editor;
  const row = document.createElement("div");
  row.className = "row g-3 mb-3";
  const left = document.createElement("div");
  left.className = "col-12 col-lg-6";
  const right = document.createElement("div");
  right.className = "col-12 col-lg-6";
  right.setAttribute("aria-live", "polite");
  field.before(row);
  left.append(field);
  row.append(left, right);

  let sent = 0; // answers may arrive out of order: only the latest request's is shown
  async function refresh() {
    const record = document.getElementById("pf-record");
    const frame = document.getElementById("pf-frame");
    const error = document.getElementById("pf-error");
    if (!record || !frame || !record.value.trim()) return;
    const data = new FormData(form);
    data.set("preview_name", record.value.trim());
    const mine = ++sent;
    let answer;
    try {
      const r = await fetch(URL, { method: "POST", body: data, credentials: "same-origin",
                                   headers: { "X-Frappe-CSRF-Token": csrf(), Accept: "application/json" } });
      answer = await r.json();
    } catch (e) {
      answer = { error: String(e) };
    }
    if (mine !== sent) return;
    if (answer.html !== undefined) {
      frame.srcdoc = answer.html;
      error.hidden = true;
    } else {
      error.textContent = answer.error || "";
      error.hidden = false;
    }
  }

  async function loadPanel() {
    const doctype = doctypeInput()?.value || "";
    const r = await fetch(URL + "?" + new URLSearchParams({ doc_type: doctype }), { credentials: "same-origin" });
    if (!r.ok) { right.replaceChildren(); return; }
    right.innerHTML = await r.text(); // our own template, escaped on the server
    refresh();
  }

  let timer;
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 400); };
  document.addEventListener("input", (e) => {
    if (e.target === editor || e.target.name === "custom_css" || e.target.id === "pf-record") later();
  });
  document.addEventListener("change", (e) => {
    if (e.target === doctypeInput()) loadPanel();
    else if (e.target.id === "pf-record" || ["page_size", "orientation"].includes(e.target.name)) later();
  });
  loadPanel();
})();
