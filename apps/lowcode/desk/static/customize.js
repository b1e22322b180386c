// The admin pages' behaviour: Customize Form and the DocType builder (field rows that
// drag, move and get added), the permission grids and the User Permissions form.
// The server reads field order from page order, so moving a row is all the work.
(function () {
  "use strict";

  // Row keys are numbers unique in their list; new rows take the next one.
  function nextKey(list) {
    let max = 0;
    list.querySelectorAll(":scope > [data-key]").forEach((el) => {
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

  const fieldList = document.getElementById("field-list");
  if (fieldList && window.Sortable) {
    window.Sortable.create(fieldList, { handle: ".drag-handle", animation: 150, onEnd: markDirty });
  }

  document.addEventListener("click", (e) => {
    const add = e.target.closest("[data-add-field], [data-add-below]");
    if (add && fieldList) {
      const row = fromTemplate("new-field-template", fieldList);
      const after = add.hasAttribute("data-add-below") ? add.closest(".field-row") : null;
      if (after) after.after(row); else fieldList.append(row);
      focusFirst(row);
      markDirty();
      return;
    }
    const move = e.target.closest("[data-move]");
    if (move) {
      const row = move.closest(".field-row");
      if (move.dataset.move === "up" && row.previousElementSibling) row.previousElementSibling.before(row);
      if (move.dataset.move === "down" && row.nextElementSibling) row.nextElementSibling.after(row);
      move.focus();
      markDirty();
      return;
    }
    const discard = e.target.closest("[data-discard]");
    if (discard) {
      const row = discard.closest(".field-row, .rule-row");
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
