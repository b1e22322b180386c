/* The Notification form: once a Document Type is chosen, the inputs that name one of its
   fields (Reference Date, Value Changed, Set Property After Alert, a recipient's document
   field) suggest that DocType's fields (lowcode.channels.notifications.get_fields).
   Suggestions are <option> elements filled through properties: labels never become HTML. */
(function () {
  "use strict";
  var METHOD = "/api/method/lowcode.channels.notifications.get_fields?doctype=";
  var TABLES = ["Table", "Table MultiSelect"];
  var TARGETS = { date_changed: "nf-date", value_changed: "nf-any", set_property_after_alert: "nf-any" };
  var RECIPIENT = "-receiver_by_document_field";

  function fill(id, fields) {
    var list = document.getElementById(id);
    if (!list) {
      list = document.createElement("datalist");
      list.id = id;
      document.body.appendChild(list);
    }
    list.replaceChildren.apply(list, fields.map(function (f) {
      var o = document.createElement("option");
      o.value = f.fieldname;
      o.label = f.label + " (" + f.fieldtype + ")";
      return o;
    }));
  }

  function isRecipient(f) {
    return f.options === "Email" || f.options === "Phone" || (f.fieldtype === "Link" && f.options === "User");
  }

  function wire() {
    Object.keys(TARGETS).forEach(function (name) {
      var input = document.querySelector('input[name="' + name + '"]');
      if (input) input.setAttribute("list", TARGETS[name]);
    });
    document.querySelectorAll('input[name$="' + RECIPIENT + '"]').forEach(function (input) {
      input.setAttribute("list", "nf-recipient");
    });
  }

  function refresh() {
    var doctype = document.querySelector('[name="document_type"]');
    if (!doctype || !doctype.value) return;
    fetch(METHOD + encodeURIComponent(doctype.value), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        var fields = answer.message || [];
        fill("nf-date", fields.filter(function (f) { return f.fieldtype === "Date" || f.fieldtype === "Datetime"; }));
        fill("nf-any", fields.filter(function (f) { return TABLES.indexOf(f.fieldtype) < 0; }));
        fill("nf-recipient", fields.filter(isRecipient));
        wire();
      })
      .catch(function () { /* suggestions only: the form works without them */ });
  }

  document.addEventListener("change", function (e) {
    if (e.target.name === "document_type") refresh();
  });
  // Recipient rows added after the page loaded.
  document.addEventListener("focusin", function (e) {
    var name = e.target.name || "";
    if (name.slice(-RECIPIENT.length) === RECIPIENT) e.target.setAttribute("list", "nf-recipient");
  });
  refresh();
})();
