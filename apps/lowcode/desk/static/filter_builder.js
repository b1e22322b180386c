// The filter builder (templates/filter_bar.html, views/filter_builder.py). Wherever it
// is shown it narrows the operators to the chosen field's and offers a list of timespans
// ("this week") for the Timespan operator. On a form that keeps filters as JSON for another
// DocType (Number Card, Dashboard Chart: `filters_json` next to `document_type`) it mounts
// the builder for the chosen DocType in place of the JSON textarea and edits the JSON;
// the server renders the builder and the chips, so nothing here builds HTML.
(function () {
  "use strict";
  const part = (b, name) => b.querySelector('[data-fb="' + name + '"]');

  function sync(builder) {
    const op = part(builder, "op");
    const chosen = part(builder, "field").selectedOptions[0];
    const ops = chosen && chosen.dataset.ops ? chosen.dataset.ops.split("|") : null;
    [...op.options].forEach((o) => { o.hidden = o.disabled = !!ops && !ops.includes(o.value); });
    if (op.selectedOptions[0] && op.selectedOptions[0].disabled) op.value = ops[0];
    const timespan = op.value === "timespan";
    const value = part(builder, "value");
    const span = part(builder, "timespan");
    value.hidden = timespan;
    span.hidden = !timespan;
    if (!builder.closest("[data-fb-mounted]")) {  // in a filter form: submit the input on show
      value.name = timespan ? "" : "add_value";
      span.name = timespan ? "add_value" : "";
    }
  }
  document.addEventListener("change", (e) => {
    const builder = e.target.closest("[data-filter-builder]");
    if (builder && (e.target.dataset.fb === "field" || e.target.dataset.fb === "op")) sync(builder);
  });
  document.querySelectorAll("[data-filter-builder]").forEach(sync);

  // -- mounted on a form --------------------------------------------------------------
  const textarea = document.querySelector('textarea[name="filters_json"]');
  const doctype = document.querySelector('[name="document_type"]');
  if (!textarea || !doctype || textarea.readOnly) return;
  const host = document.createElement("div");
  host.id = "filters-builder";
  textarea.after(host);

  function current() {
    try {
      const value = JSON.parse(textarea.value.trim() || "[]");
      return Array.isArray(value) ? value : null;
    } catch (e) {
      return null;
    }
  }

  async function load() {
    // JSON the builder cannot read (hand-written, or an object) stays editable as text.
    textarea.hidden = current() !== null;
    if (!doctype.value) {
      host.replaceChildren();
      return;
    }
    const url = "/app/__filter-builder?doctype=" + encodeURIComponent(doctype.value) +
      "&filters=" + encodeURIComponent(textarea.value.trim() || "[]");
    try {
      const r = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
      if (!r.ok) {
        host.replaceChildren();
        textarea.hidden = false;
        return;
      }
      host.innerHTML = await r.text();  // rendered (and escaped) by the server's template
    } catch (e) {
      textarea.hidden = false;
      return;
    }
    // The builder's inputs are not the document's fields: keep them out of the form post.
    host.querySelectorAll("[name]").forEach((el) => el.removeAttribute("name"));
    host.querySelectorAll("[data-filter-builder]").forEach(sync);
  }

  function add(builder) {
    const field = part(builder, "field").value;
    if (!field) {
      part(builder, "field").focus();
      return;
    }
    const op = part(builder, "op").value;
    let value = op === "timespan" ? part(builder, "timespan").value : part(builder, "value").value;
    if (op === "between") value = value.split(",").map((s) => s.trim());
    save([...(current() || []), [field, op, value]]);
  }

  function save(filters) {
    textarea.value = filters.length ? JSON.stringify(filters) : "";
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
    load();
  }

  host.addEventListener("click", (e) => {
    const remove = e.target.closest("[data-fb-remove]");
    if (remove) {
      const filters = current() || [];
      filters.splice(Number(remove.dataset.fbRemove), 1);
      save(filters);
    } else if (e.target.closest('[data-fb="add"]')) {
      add(e.target.closest("[data-filter-builder]"));
    }
  });
  host.addEventListener("keydown", (e) => {  // Enter adds the filter instead of saving the form
    if (e.key === "Enter" && e.target.dataset.fb === "value") {
      e.preventDefault();
      add(e.target.closest("[data-filter-builder]"));
    }
  });
  let shownFor = doctype.value;
  doctype.addEventListener("change", () => {  // a second change event for the same DocType keeps the builder's choices
    if (doctype.value === shownFor) return;
    shownFor = doctype.value;
    load();
  });
  textarea.addEventListener("input", () => { if (current() !== null) load(); });
  load();
})();
