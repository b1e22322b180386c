/* The Lead form (hooks: doctype_js):
   - "Possible duplicate" while someone types the mobile, phone, e-mail or company: the
     leads and customers the duplicate rule matches (crm_app.matching.possible_duplicates,
     a GET that never writes), shown under the field with links, before the lead is saved.
     Built with textContent only: titles never become HTML.
   - "Convert to customer" opens the conversion dialog (/app/convert-lead/<lead>,
     crm_app/convert_page.py) in a modal instead of its page; an error answer (4xx) is
     shown in the dialog, a conversion goes on to the new opportunity (HX-Redirect). */
(function () {
  "use strict";
  const DELAY = 400; // ms after the last key before asking the server
  const METHOD = "/api/method/crm_app.matching.possible_duplicates";
  const WATCHED = ["mobile_no", "phone", "email_id", "company_name"];
  const SENT = WATCHED.concat(["first_name", "last_name"]);
  const form = document.getElementById("doc-form");
  if (!form || form.dataset.doctype !== "Lead") return;

  function localPath(url) { // only this site's pages: never javascript:, //host or http(s)://host
    url = String(url || "");
    return url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\" ? url : null;
  }

  // -- duplicate warning while typing ---------------------------------------------------------
  const box = document.createElement("div");
  box.id = "lead-duplicate-warning";
  box.className = "alert alert-warning py-2 mt-2 mb-0";
  box.setAttribute("role", "status");
  box.setAttribute("aria-live", "polite");
  box.hidden = true;
  let timer = null, last = null, asked = 0;

  function field(name) { return form.querySelector(`[name="${name}"]`); }

  function show(items, near) {
    box.replaceChildren();
    items.forEach((item) => {
      const href = localPath(item.url);
      const line = document.createElement("div");
      line.className = "lead-duplicate";
      line.dataset.doctype = item.doctype;
      line.dataset.matched = (item.matched || []).join(" ");
      const link = document.createElement(href ? "a" : "span");
      if (href) { link.href = href; link.target = "_blank"; link.rel = "noopener"; }
      const title = document.createElement("bdi");
      title.textContent = item.title || item.name || "";
      link.append(title);
      const kind = document.createElement("span");
      kind.className = "badge text-bg-secondary ms-1 me-1";
      kind.textContent = item.doctype_label || item.doctype || "";
      line.append(document.createTextNode(item.before || ""), link, kind, document.createTextNode(item.after || ""));
      box.append(line);
    });
    box.hidden = !box.childElementCount;
    if (!box.hidden && near) (near.closest(".field") || near).append(box);
  }

  function lookup(near) {
    const query = new URLSearchParams();
    SENT.forEach((name) => { const input = field(name); if (input && input.value.trim()) query.set(name, input.value.trim().slice(0, 140)); });
    if (!WATCHED.some((name) => query.has(name))) { last = null; show([]); return; }
    if (form.dataset.name && form.dataset.name !== "new") query.set("lead", form.dataset.name);
    const text = query.toString();
    if (text === last) { if (!box.hidden && near) (near.closest(".field") || near).append(box); return; }
    last = text;
    const mine = ++asked;
    fetch(METHOD + "?" + text, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((r) => (r.ok ? r.json() : {message: []}))
      .then((data) => { if (mine === asked) show(Array.isArray(data.message) ? data.message : [], near); })
      .catch(() => { /* the warning is a help, never an error */ });
  }

  WATCHED.forEach((name) => {
    const input = field(name);
    if (!input) return;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => lookup(input), DELAY);
    });
  });

  // -- the conversion dialog --------------------------------------------------------------------
  function modal() {
    const element = window.desk.modalBox("convert-lead-modal", "convert-lead-title",
                                         "modal-dialog modal-dialog-scrollable modal-lg");
    if (!element.firstElementChild.firstElementChild) element.firstElementChild.innerHTML = '<div class="modal-content"></div>';
    return element;
  }

  document.addEventListener("click", (e) => {
    const link = e.target.closest('a[href^="/app/convert-lead/"]');
    if (!link || !window.htmx || !window.bootstrap || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    const element = modal();
    window.htmx.ajax("GET", link.getAttribute("href"), {target: element.querySelector(".modal-content"), swap: "innerHTML"})
      .then(() => window.bootstrap.Modal.getOrCreateInstance(element).show());
  });

  document.addEventListener("htmx:beforeSwap", (e) => {
    const target = e.detail.target;
    if (e.detail.xhr.status >= 400 && e.detail.xhr.status < 500 && target && target.closest("[data-convert-form], #convert-lead-modal")) {
      e.detail.shouldSwap = true; // the dialog shows the refusal on its field
      e.detail.isError = false;
    }
  });

  document.addEventListener("shown.bs.modal", (e) => {
    if (e.target.id !== "convert-lead-modal") return;
    const first = e.target.querySelector("[data-convert-form] .modal-body :is(input:checked, input:not([type=hidden]), select)");
    if (first) first.focus();
  });
})();
