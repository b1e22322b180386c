// Kanban: drag a card (SortableJS) or pick a column in its "Move to" list; the server
// applies the move exactly as a form save would and answers with the card's new
// version, or with a message, in which case the card goes back where it was.
(function () {
  "use strict";
  const board = document.getElementById("kanban");
  const message = document.getElementById("kanban-message");

  // Changing the grouping field or a filter reloads the board.
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.addEventListener("change", () => form.submit());
  });
  if (!board || board.dataset.canMove !== "1") return;

  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  function showError(text) {
    message.textContent = text;
    message.hidden = false;
  }

  // Counts keep the digits the server wrote them in (Persian digits are a user setting).
  const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  function digits(n, like) {
    const text = String(n);
    return /[۰-۹]/.test(like) ? text.replace(/[0-9]/g, (d) => PERSIAN[d]) : text;
  }

  function recount() {
    board.querySelectorAll(".kanban-column").forEach((column) => {
      const badge = column.querySelector("[data-count]");
      const list = column.querySelector(".kanban-cards");
      // The badge holds the column's total (cards beyond the page are not in the DOM).
      badge.textContent = digits(Number(badge.dataset.count) + Number(list.dataset.delta || 0), badge.textContent);
    });
  }

  async function move(card, from, to, oldIndex) {
    message.hidden = true;
    card.setAttribute("aria-busy", "true");
    const body = new URLSearchParams({ name: card.dataset.name, field: board.dataset.field,
                                       value: to.dataset.value, modified: card.dataset.modified });
    let ok = false;
    let text = "";
    try {
      const r = await fetch(board.dataset.moveUrl, { method: "POST", body, credentials: "same-origin",
                                                     headers: { "X-Frappe-CSRF-Token": csrf(), Accept: "application/json" } });
      const data = await r.json().catch(() => ({}));
      ok = r.ok;
      if (ok) {
        card.dataset.modified = data.modified;
        if (data.moves) setMoves(card, data.moves);
      }
      else text = data.message || r.statusText;
    } catch (e) {
      text = String(e);
    }
    card.removeAttribute("aria-busy");
    if (ok) {
      from.dataset.delta = Number(from.dataset.delta || 0) - 1;
      to.dataset.delta = Number(to.dataset.delta || 0) + 1;
      recount();
    } else {
      from.insertBefore(card, from.children[oldIndex] || null); // snap back
      showError(text);
    }
    const select = card.querySelector("[data-move]");
    if (select) select.value = (ok ? to : from).dataset.value;
  }

  // The columns a card may move to (the server's list: workflow transitions the user
  // may take from the card's state, or every column).
  const movesOf = (card) => JSON.parse(card.dataset.moves || "[]");

  function setMoves(card, moves) {
    card.dataset.moves = JSON.stringify(moves);
    let select = card.querySelector("[data-move]");
    if (!select && moves.length > 1) {
      select = document.createElement("select");
      select.className = "form-select form-select-sm w-auto mw-100 mt-2";
      select.dataset.move = "";
      select.setAttribute("aria-label", card.dataset.moveLabel || "");
      card.querySelector(".card-body").append(select);
    }
    if (!select) return;
    select.replaceChildren(...moves.map((value) => {
      const list = board.querySelector(`.kanban-cards[data-value="${CSS.escape(value)}"]`);
      const label = document.getElementById(list.getAttribute("aria-labelledby"));
      return new Option(label.textContent, value);
    }));
    select.hidden = moves.length < 2;
  }

  board.querySelectorAll(".kanban-cards").forEach((list) => {
    window.Sortable.create(list, {
      group: "kanban", sort: false, animation: 150, ghostClass: "kanban-ghost",
      filter: "select", preventOnFilter: false,
      // a card drops only on a column its list offers
      onMove: (e) => e.to === e.from || movesOf(e.dragged).includes(e.to.dataset.value),
      onEnd: (e) => { if (e.from !== e.to) move(e.item, e.from, e.to, e.oldIndex); },
    });
  });

  // The keyboard (and small-screen) way to move a card.
  board.addEventListener("change", (e) => {
    const select = e.target.closest("[data-move]");
    if (!select) return;
    const card = select.closest(".kanban-card");
    const from = card.parentElement;
    const to = board.querySelector(`.kanban-cards[data-value="${CSS.escape(select.value)}"]`);
    if (!to || to === from) return;
    const oldIndex = Array.prototype.indexOf.call(from.children, card);
    to.prepend(card);
    move(card, from, to, oldIndex).then(() => select.focus());
  });
})();
