// The admin pages' behaviour: Customize Form and the DocType builder (the form builder:
// fields and sections that drag, move and get added), the permission grids and the User
// Permissions form. The server reads field order from page order, so moving a row is all the work.
(function () {
  "use strict";

  // Row keys are numbers unique in their list; new rows take the next one.
  function nextKey(list) {
    let max = 0;
    list.querySelectorAll("[data-key]").forEach((el) => {
      const n = parseInt(el.dataset.key, 10);
      if (n > max) max = n;
    });
    return String(max + 1);
  }

  function fromTemplate(templateId, list) {
    const tpl = document.getElementById(templateId);
    // A <template> parses table rows too, where a <div> would drop them.
    const wrap = document.createElement("template");
    wrap.innerHTML = tpl.innerHTML.replaceAll("__key__", nextKey(list));
    return wrap.content.firstElementChild;
  }

  function focusFirst(row) {
    const input = row.querySelector("input:not([type=hidden]), select");
    if (input) input.focus();
  }

  // The form builder (customize_form.html: builder_tab): fields drag between the columns
  // of every section and tab, sections between tabs. The server reads field order from
  // page order, and a break's card comes first in its container, so moving cards and
  // containers in the page is all the work.
  const fieldList = document.getElementById("field-list");
  function makeSortable(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("[data-fields]").forEach((list) => window.Sortable.create(list, {
      group: "fields", handle: ".drag-handle", animation: 150, onEnd: markDirty,
    }));
    root.querySelectorAll("[data-sections]").forEach((list) => window.Sortable.create(list, {
      group: "sections", handle: ".section-handle", animation: 150, onEnd: markDirty,
    }));
  }
  if (fieldList) makeSortable(fieldList);

  function all(selector) { return Array.from(fieldList.querySelectorAll(selector)); }

  // Up/down without a mouse: a field past the top or bottom of its column goes on to
  // the neighbouring column (through sections and tabs); a section likewise between tabs.
  function moveField(row, up) {
    const sibling = up ? row.previousElementSibling : row.nextElementSibling;
    if (sibling) { if (up) sibling.before(row); else sibling.after(row); return; }
    const lists = all("[data-fields]");
    const target = lists[lists.indexOf(row.parentElement) + (up ? -1 : 1)];
    if (target) { if (up) target.append(row); else target.prepend(row); }
  }
  function moveSection(section, up) {
    const sibling = up ? section.previousElementSibling : section.nextElementSibling;
    if (sibling) { if (up) sibling.before(section); else sibling.after(section); return; }
    const lists = all("[data-sections]");
    const target = lists[lists.indexOf(section.parentElement) + (up ? -1 : 1)];
    if (target) { if (up) target.append(section); else target.prepend(section); }
  }

  // Where "+" will put the new field: after a row, or at the end of a column's list.
  let insertAt = null;
  const dialog = document.getElementById("new-field-dialog");
  function openFieldDialog(place) {
    insertAt = place;
    if (!dialog || !dialog.showModal) { addField(place, {}); return; }
    dialog.querySelector("form").reset();
    dialog.returnValue = ""; // Escape keeps the last value: only "Add" this time adds
    dialog.showModal();
    dialog.querySelector("#nf-label").focus();
  }
  if (dialog) {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "add" || !insertAt) return;
      addField(insertAt, {
        label: dialog.querySelector("#nf-label").value,
        fieldtype: dialog.querySelector("#nf-fieldtype").value,
        options: dialog.querySelector("#nf-options").value,
        reqd: dialog.querySelector("#nf-reqd").checked,
      });
      insertAt = null;
    });
  }
  function addField(place, values) {
    const row = fromTemplate("new-field-template", fieldList);
    const key = row.dataset.key;
    const set = (prop, value) => { const el = row.querySelector(`[name="f-${key}-${prop}"]`); if (el && value) el.value = value; };
    set("label", values.label); set("fieldtype", values.fieldtype); set("options", values.options);
    if (values.reqd) row.querySelector(`[name="f-${key}-reqd"]`).checked = true;
    if (values.label) row.querySelector("details").open = false;
    if (place.after) place.after.after(row); else place.list.append(row);
    focusFirst(row);
    markDirty();
  }

  // Add a tab (at the end), a section (at the end of its tab) or a column (of its section).
  function addLayout(button) {
    const kind = { "Tab Break": "tab", "Section Break": "section", "Column Break": "column" }[button.dataset.addLayout];
    const box = fromTemplate(`new-${kind}-template`, fieldList);
    if (kind === "tab") fieldList.append(box);
    else if (kind === "section") button.closest("[data-tab]").querySelector("[data-sections]").append(box);
    else button.closest("[data-section]").querySelector(".fb-columns").append(box);
    makeSortable(box);
    focusFirst(box);
    markDirty();
  }

  document.addEventListener("click", (e) => {
    const add = e.target.closest("[data-add-field], [data-add-below]");
    if (add && fieldList) {
      if (add.hasAttribute("data-add-below")) openFieldDialog({ after: add.closest(".field-row") });
      else openFieldDialog({ list: add.closest("[data-column]").querySelector("[data-fields]") });
      return;
    }
    const layout = e.target.closest("[data-add-layout]");
    if (layout && fieldList) { addLayout(layout); return; }
    const move = e.target.closest("[data-move]");
    if (move) {
      const row = move.closest(".field-row");
      const up = move.dataset.move === "up";
      if (row.classList.contains("fb-section-row")) moveSection(row.closest("[data-section]"), up);
      else moveField(row, up);
      move.focus();
      markDirty();
      return;
    }
    const discard = e.target.closest("[data-discard]");
    if (discard) {
      const row = discard.closest(".field-row, .rule-row");
      // A new break goes with its container; the fields in it stay, in the container before.
      const box = row.classList.contains("fb-field-row") || row.classList.contains("rule-row") ? null
        : row.closest(row.classList.contains("fb-tab-row") ? "[data-tab]"
          : row.classList.contains("fb-section-row") ? "[data-section]" : "[data-column]");
      if (box) {
        const prev = all("[data-fields]").filter((l) => !box.contains(l) && (l.compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING)).pop();
        box.querySelectorAll(".fb-field-row").forEach((r) => prev.append(r));
        box.remove();
        return;
      }
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (next) focusFirst(next);
      return;
    }
    const addRule = e.target.closest("[data-add-rule]");
    if (addRule) {
      const body = document.getElementById(addRule.dataset.addRule);
      const row = fromTemplate("new-rule-template", body);
      body.append(row);
      focusFirst(row);
      markDirty();
    }
  });

  // Leaving with unsaved changes asks first.
  let dirty = false;
  function markDirty() { dirty = true; }
  document.addEventListener("input", (e) => { if (e.target.closest("form[method=post]")) markDirty(); });
  document.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (e) => { if (dirty) { e.preventDefault(); e.returnValue = ""; } });

  // DocType builder: show only the inputs the chosen naming needs.
  const naming = document.getElementById("naming");
  function showNaming() {
    document.querySelectorAll("[data-naming-for]").forEach((el) => {
      el.hidden = el.dataset.namingFor !== naming.value;
    });
  }
  if (naming) { naming.addEventListener("change", showNaming); showNaming(); }

  // User Permissions: the value searches the chosen DocType; "applies to" shows only
  // when the restriction is not for every DocType.
  const allow = document.getElementById("up-allow");
  const value = document.getElementById("up-for_value");
  if (allow && value) allow.addEventListener("change", () => { value.dataset.link = allow.value; value.value = ""; });
  const toAll = document.getElementById("up-apply_to_all_doctypes");
  const appliesTo = document.getElementById("up-applicable_for-box");
  function showAppliesTo() { appliesTo.hidden = toAll.checked; }
  if (toAll && appliesTo) { toAll.addEventListener("change", showAppliesTo); showAppliesTo(); }
})();
