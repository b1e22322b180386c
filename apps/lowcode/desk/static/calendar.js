// Calendar: drag an event (SortableJS) to another day, or in week and day mode to
// another hour; the server shifts the dates and saves the document as the form would.
// On success the page reloads (the server draws the grid); on refusal the event goes
// back and the message is shown.
(function () {
  "use strict";
  const calendar = document.getElementById("calendar");
  const message = document.getElementById("calendar-message");

  // Changing the date field, the end field or a filter reloads the calendar.
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.addEventListener("change", () => form.submit());
  });
  if (!calendar || calendar.dataset.canMove !== "1") return;

  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function reschedule(item, from, to, oldIndex) {
    message.hidden = true;
    item.setAttribute("aria-busy", "true");
    const body = new URLSearchParams({
      name: item.dataset.name, modified: item.dataset.modified,
      field: calendar.dataset.field, end_field: calendar.dataset.endField,
      from_date: from.dataset.date, to_date: to.dataset.date, to_hour: to.dataset.hour || "",
    });
    let text = "";
    try {
      const r = await fetch(calendar.dataset.moveUrl, { method: "POST", body, credentials: "same-origin",
                                                        headers: { "X-Frappe-CSRF-Token": csrf(), Accept: "application/json" } });
      if (r.ok) { window.location.reload(); return; }
      const data = await r.json().catch(() => ({}));
      text = data.message || r.statusText;
    } catch (e) {
      text = String(e);
    }
    item.removeAttribute("aria-busy");
    from.insertBefore(item, from.children[oldIndex] || null); // snap back
    message.textContent = text;
    message.hidden = false;
    message.scrollIntoView({ block: "nearest" });
  }

  calendar.querySelectorAll(".cal-drop").forEach((list) => {
    window.Sortable.create(list, {
      group: "calendar", sort: false, animation: 150,
      onEnd: (e) => {
        if (e.from === e.to) return;
        reschedule(e.item, e.from, e.to, e.oldIndex);
      },
    });
  });
})();
