// The activity panel's dialogs (crm_app/activity_panel.py): Bootstrap opens them; this
// shows a dialog's error answer (htmx leaves 4xx unswapped) and closes the dialog once
// its save came back (the timeline was swapped in by the same answer).
(function () {
  "use strict";
  if (window.lowcodeActivityPanel) return; // the panel may be loaded again
  window.lowcodeActivityPanel = true;

  document.addEventListener("htmx:beforeSwap", (e) => {
    const target = e.detail.target;
    if (e.detail.xhr.status >= 400 && e.detail.xhr.status < 500 && target && target.closest("[data-activity-form]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // An opened dialog starts in its first field, for the keyboard.
  document.addEventListener("shown.bs.modal", (e) => {
    const field = e.target.querySelector("[data-activity-form] .modal-body :is(input:not([type=hidden]), select, textarea)");
    if (field) field.focus();
  });

  document.addEventListener("htmx:afterSettle", () => {
    document.querySelectorAll("form[data-activity-saved]").forEach((form) => {
      form.removeAttribute("data-activity-saved");
      const modal = form.closest(".modal");
      if (modal && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(modal).hide();
    });
    const invalid = document.querySelector(".modal.show [data-activity-form] .is-invalid");
    if (invalid) invalid.focus();
  });
})();
