// The desk's date picker, one control for both calendars: every input with
// data-datepicker="date" or "datetime" gets it (attached by delegated events, so inputs in
// htmx-swapped HTML and dialogs need no code of their own). The input stays a text input
// the server reads (formatting.parse_input): Jalali users' text is YYYY/MM/DD in their
// calendar, Gregorian users' ISO YYYY-MM-DD; "HH:MM" follows for a datetime. Typing keeps
// working (Persian or Latin digits, / or -) and the open month follows what is typed.
// Jalali arithmetic comes from jalaali-js (loaded on first use); names of months and
// weekdays from the browser's Intl in the user's language.
(function () {
  "use strict";
  const script = document.currentScript;
  let jalaali = null;
  const loadJalaali = async () => jalaali || (jalaali = await import(script.dataset.jalaali));

  const LATIN = { "۰": 0, "۱": 1, "۲": 2, "۳": 3, "۴": 4, "۵": 5, "۶": 6, "۷": 7, "۸": 8, "۹": 9,
    "٠": 0, "١": 1, "٢": 2, "٣": 3, "٤": 4, "٥": 5, "٦": 6, "٧": 7, "٨": 8, "٩": 9 };
  const latin = (s) => String(s).replace(/[۰-۹٠-٩]/g, (c) => LATIN[c]).replace(/[\u2066-\u2069]/g, "");
  const pad = (n, w = 2) => String(n).padStart(w, "0");

  const css = new CSSStyleSheet();
  css.replaceSync(`
    .dp { position: fixed; z-index: 1090; width: 18.5rem; max-width: calc(100vw - .5rem); }
    .dp-grid { display: grid; grid-template-columns: repeat(7, 1fr); gap: 2px; text-align: center; }
    .dp-grid .btn { padding: .25rem 0; font-variant-numeric: tabular-nums; }
    .dp-day { background: var(--bs-tertiary-bg); color: var(--bs-body-color); }
    .dp-day:hover { background: var(--bs-secondary-bg); }
    .dp-grid .btn:focus-visible { outline: 2px solid var(--bs-primary); outline-offset: 1px; }
    .dp-wd { font-size: .75rem; color: var(--bs-secondary-color); padding: .25rem 0; }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, css];

  class Picker {
    constructor(input) {
      this.input = input;
      this.kind = input.dataset.datepicker === "datetime" ? "datetime" : "date";
      const body = document.body.dataset;
      this.jalali = (input.dataset.calendar || body.calendar) === "Jalali";
      this.lang = body.lang || document.documentElement.lang || "en";
      this.localDigits = (input.dataset.digits ?? body.digits) === "1";
      this.words = document.getElementById("datepicker-words")?.dataset || {};
      // Saturday first in Persian (and for the Jalali calendar), Sunday otherwise.
      this.firstDay = this.lang === "fa" || this.jalali ? 6 : 0;
      const cal = this.jalali ? "persian" : "gregory";
      this.monthFmt = new Intl.DateTimeFormat(`${this.lang}-u-ca-${cal}-nu-latn`, { month: "long", timeZone: "UTC" });
      this.fullFmt = new Intl.DateTimeFormat(`${this.lang}-u-ca-${cal}`, { dateStyle: "full", timeZone: "UTC" });
      this.wdFmt = new Intl.DateTimeFormat(this.lang, { weekday: "narrow", timeZone: "UTC" });
      this.wdLong = new Intl.DateTimeFormat(this.lang, { weekday: "long", timeZone: "UTC" });
    }

    digits(text) { return this.localDigits ? String(text).replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : String(text); }

    // -- calendar arithmetic: {y, m, d} in the picker's calendar <-> a UTC Date ------------------
    toDate({ y, m, d }) {
      if (!this.jalali) return new Date(Date.UTC(y, m - 1, d));
      const g = jalaali.toGregorian(y, m, d);
      return new Date(Date.UTC(g.gy, g.gm - 1, g.gd));
    }
    fromDate(date) {
      if (!this.jalali) return { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate() };
      const j = jalaali.toJalaali(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
      return { y: j.jy, m: j.jm, d: j.jd };
    }
    monthLength(y, m) {
      return this.jalali ? jalaali.jalaaliMonthLength(y, m) : new Date(Date.UTC(y, m, 0)).getUTCDate();
    }
    valid({ y, m, d }) {
      if (!(m >= 1 && m <= 12 && d >= 1)) return false;
      if (this.jalali) return y >= -61 && y <= 3177 && d <= this.monthLength(y, m);
      return y >= 1 && y <= 9999 && d <= this.monthLength(y, m);
    }
    addDays(ymd, n) { return this.fromDate(new Date(this.toDate(ymd).getTime() + n * 86400000)); }
    addMonths({ y, m, d }, n) {
      const i = y * 12 + (m - 1) + n;
      const ny = Math.floor(i / 12), nm = (i % 12 + 12) % 12 + 1;
      return { y: ny, m: nm, d: Math.min(d, this.monthLength(ny, nm)) };
    }
    today() {
      const now = new Date();
      return this.fromDate(new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())));
    }

    // -- the input's text <-> a date ---------------------------------------------------------------
    parse() {
      const [datePart, timePart] = latin(this.input.value).trim().split(/\s+/);
      this.time = /^\d{1,2}:\d{2}/.test(timePart || "") ? timePart.slice(0, 5).padStart(5, "0") : this.time;
      const parts = (datePart || "").split(/[/\-.]/).map((p) => parseInt(p, 10));
      if (parts.length !== 3 || parts.some(isNaN)) return null;
      let ymd = { y: parts[0], m: parts[1], d: parts[2] };
      // ISO (with "-") is Gregorian even for a Jalali user, as the server reads it.
      if (this.jalali && !datePart.includes("/")) {
        const g = new Date(Date.UTC(ymd.y, ymd.m - 1, ymd.d));
        if (g.getUTCMonth() !== ymd.m - 1) return null;
        ymd = this.fromDate(g);
      }
      return this.valid(ymd) ? ymd : null;
    }
    format(ymd) {
      const date = this.jalali ? `${ymd.y}/${pad(ymd.m)}/${pad(ymd.d)}` : `${pad(ymd.y, 4)}-${pad(ymd.m)}-${pad(ymd.d)}`;
      return this.digits(this.kind === "datetime" ? `${date} ${this.time || "00:00"}` : date);
    }
    write(text) {
      this.input.value = text;
      this.input.dispatchEvent(new Event("input", { bubbles: true }));
      this.input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // -- the popup -----------------------------------------------------------------------------------
    open() {
      if (this.el) return;
      this.selected = this.parse();
      this.view = this.selected || this.today();
      const el = this.el = document.createElement("div");
      el.className = "dp card card-body p-2 shadow";
      el.setAttribute("role", "dialog");
      el.setAttribute("aria-label", this.words.choose || "Choose a date");
      el.id = (this.input.id || "dp") + "-picker";
      this.input.setAttribute("aria-expanded", "true");
      this.input.setAttribute("aria-controls", el.id);
      this.input.insertAdjacentElement("afterend", el);
      el.addEventListener("click", (e) => this.onClick(e));
      el.addEventListener("keydown", (e) => this.onKey(e));  // (Escape stops here, before a dialog)
      el.addEventListener("change", (e) => {
        if (e.target.matches("[data-dp-time]")) {
          e.stopPropagation();
          this.time = e.target.value || "00:00";
          if (this.selected) this.write(this.format(this.selected));
        }
      });
      this.render();
      this.place();
    }
    // Fixed under the input (above it when there is no room below), aligned to its start
    // edge and kept on the screen: no scrolling box (a grid, a dialog) clips it.
    place() {
      if (!this.el) return;
      const r = this.input.getBoundingClientRect(), w = this.el.offsetWidth, h = this.el.offsetHeight;
      const rtl = getComputedStyle(this.el).direction === "rtl";
      const left = Math.min(Math.max(4, rtl ? r.right - w : r.left), innerWidth - w - 4);
      const top = r.bottom + h + 4 > innerHeight && r.top - h - 4 > 0 ? r.top - h - 4 : r.bottom + 4;
      this.el.style.left = `${left}px`;
      this.el.style.top = `${top}px`;
    }
    close(focusInput) {
      if (!this.el) return;
      this.el.remove();
      this.el = null;
      this.input.setAttribute("aria-expanded", "false");
      if (focusInput) this.input.focus();
    }
    button(label, action, extra = "") {
      return `<button type="button" class="btn btn-sm btn-link text-decoration-none" data-dp="${action}" aria-label="${desk.escapeHtml(label)}" ${extra}>`;
    }
    render(focusDay) {
      const w = this.words, rtl = getComputedStyle(this.el).direction === "rtl";
      const [prev, next, prevY, nextY] = rtl ? ["›", "‹", "»", "«"] : ["‹", "›", "«", "»"];
      const { y, m } = this.view;
      const title = `${this.monthFmt.format(this.toDate({ y, m, d: 15 }))} ${this.digits(y)}`;
      const first = this.toDate({ y, m, d: 1 }).getUTCDay();
      const lead = (first - this.firstDay + 7) % 7;
      const today = this.today();
      const same = (a, b) => a && b && a.y === b.y && a.m === b.m && a.d === b.d;
      let html = `<div class="d-flex align-items-center justify-content-between mb-1">
        ${this.button(w.prevYear || "Previous year", "py")}${prevY}</button>${this.button(w.prevMonth || "Previous month", "pm")}${prev}</button>
        <div class="fw-semibold flex-grow-1 text-center" aria-live="polite" data-dp-title>${desk.escapeHtml(title)}</div>
        ${this.button(w.nextMonth || "Next month", "nm")}${next}</button>${this.button(w.nextYear || "Next year", "ny")}${nextY}</button>
        </div><div class="dp-grid" role="grid">`;
      for (let i = 0; i < 7; i++) {
        const day = new Date(Date.UTC(2024, 0, 7 + (this.firstDay + i) % 7)); // 2024-01-07 was a Sunday
        html += `<div class="dp-wd" role="columnheader"><abbr title="${desk.escapeHtml(this.wdLong.format(day))}" class="text-decoration-none">${desk.escapeHtml(this.wdFmt.format(day))}</abbr></div>`;
      }
      for (let i = 0; i < lead; i++) html += "<div></div>";
      for (let d = 1, n = this.monthLength(y, m); d <= n; d++) {
        const ymd = { y, m, d }, sel = same(ymd, this.selected), now = same(ymd, today);
        const cls = sel ? "btn-primary" : (now ? "btn-outline-primary" : "dp-day");  // (dp-day: light or dark theme)
        const tab = (focusDay ? same(ymd, focusDay) : (sel || (!this.selected && d === 1))) ? 0 : -1;
        html += `<button type="button" class="btn btn-sm ${cls}" data-dp-day="${d}" tabindex="${tab}"
          aria-label="${desk.escapeHtml(this.fullFmt.format(this.toDate(ymd)))}"${sel ? ' aria-pressed="true"' : ""}${now ? ' aria-current="date"' : ""}>${this.digits(d)}</button>`;
      }
      html += "</div>";
      if (this.kind === "datetime") {
        html += `<label class="form-label small mt-2 mb-0">${desk.escapeHtml(w.time || "Time")}
          <input type="time" class="form-control form-control-sm" data-dp-time value="${desk.escapeHtml(this.time || "")}"></label>`;
      }
      html += `<div class="d-flex justify-content-between mt-2">
        <button type="button" class="btn btn-sm btn-outline-secondary" data-dp="today">${desk.escapeHtml(w.today || "Today")}</button>
        <button type="button" class="btn btn-sm btn-outline-secondary" data-dp="clear">${desk.escapeHtml(w.clear || "Clear")}</button>
        <button type="button" class="btn btn-sm btn-outline-secondary" data-dp="close">${desk.escapeHtml(w.close || "Close")}</button></div>`;
      this.el.innerHTML = html;
      if (focusDay) this.el.querySelector(`[data-dp-day="${focusDay.d}"]`)?.focus();
    }
    pick(ymd) {
      this.selected = ymd;
      this.write(this.format(ymd));
      this.close(true);
    }
    onClick(e) {
      const day = e.target.closest("[data-dp-day]");
      if (day) return this.pick({ y: this.view.y, m: this.view.m, d: +day.dataset.dpDay });
      const act = e.target.closest("[data-dp]")?.dataset.dp;
      const moves = { pm: -1, nm: 1, py: -12, ny: 12 };
      if (act in moves) {
        this.view = this.addMonths({ ...this.view, d: 1 }, moves[act]);
        this.render();
        this.el.querySelector(`[data-dp="${act}"]`).focus();
      } else if (act === "today") this.pick(this.today());
      else if (act === "clear") { this.selected = null; this.write(""); this.close(true); }
      else if (act === "close") this.close(true);
    }
    onKey(e) {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); return this.close(true); }
      const day = e.target.closest("[data-dp-day]");
      if (!day) return;
      const rtl = getComputedStyle(this.el).direction === "rtl";
      const steps = { ArrowLeft: rtl ? 1 : -1, ArrowRight: rtl ? -1 : 1, ArrowUp: -7, ArrowDown: 7 };
      const cur = { y: this.view.y, m: this.view.m, d: +day.dataset.dpDay };
      let to = null;
      if (e.key in steps) to = this.addDays(cur, steps[e.key]);
      else if (e.key === "PageUp") to = this.addMonths(cur, e.shiftKey ? -12 : -1);
      else if (e.key === "PageDown") to = this.addMonths(cur, e.shiftKey ? 12 : 1);
      if (!to) return;
      e.preventDefault();
      this.view = { y: to.y, m: to.m };
      this.render(to);
    }
    // Typing: the open month follows the text.
    follow() {
      const ymd = this.parse();
      if (!ymd || !this.el) return;
      this.selected = ymd;
      this.view = { y: ymd.y, m: ymd.m };
      this.render();
    }
  }

  const pickers = new WeakMap();  // input -> its Picker, once made
  const making = new WeakMap();  // input -> the promise of it (a click and a key may ask at once)
  function pickerFor(input) {
    if (input.readOnly || input.disabled) return Promise.resolve(null);
    if (!making.has(input)) {
      making.set(input, (async () => {
        const calendar = input.dataset.calendar || document.body.dataset.calendar;
        if (calendar === "Jalali") await loadJalaali();
        const p = new Picker(input);
        pickers.set(input, p);
        input.setAttribute("aria-haspopup", "dialog");
        input.setAttribute("aria-expanded", "false");
        return p;
      })());
    }
    return making.get(input);
  }
  const target = (e) => e.target.closest?.("input[data-datepicker]");

  // Focus leaving an input and its popup closes the popup. (Focus alone does not open it:
  // a click or tap does, or Alt+ArrowDown; so typing, or tabbing through a form, is never covered.)
  document.addEventListener("focusin", (e) => {
    document.querySelectorAll(".dp").forEach((el) => {
      const input = el.previousElementSibling;
      if (!el.contains(e.target) && e.target !== input) pickers.get(input)?.close(false);
    });
  });
  document.addEventListener("mousedown", (e) => {
    document.querySelectorAll(".dp").forEach((el) => {
      const input = el.previousElementSibling;
      if (!el.contains(e.target) && e.target !== input) pickers.get(input)?.close(false);
    });
  });
  document.addEventListener("click", async (e) => {
    const input = target(e);
    if (input) (await pickerFor(input))?.open();
  });
  document.addEventListener("input", (e) => {
    const input = target(e);
    if (input && e.isTrusted) pickers.get(input)?.follow();  // typed (not written by the picker)
  });
  // The page or a box around the input scrolled, or the window changed: follow the input.
  const replace = () => document.querySelectorAll(".dp").forEach((el) => pickers.get(el.previousElementSibling)?.place());
  addEventListener("scroll", replace, { capture: true, passive: true });
  addEventListener("resize", replace, { passive: true });
  // Capturing, so Escape closes the popup before a dialog around it sees the key.
  document.addEventListener("keydown", (e) => {
    const input = target(e);
    const p = input && pickers.get(input);
    if (p && e.key === "Escape" && p.el) { e.preventDefault(); e.stopPropagation(); p.close(false); }
    if (p && e.key === "Enter" && p.el) p.close(false);  // typed to the end: the form submits as before
  }, true);
  // Alt+ArrowDown opens the picker from the keyboard, on the chosen (or first) day.
  document.addEventListener("keydown", async (e) => {
    const input = target(e);
    if (!input || e.key !== "ArrowDown" || !e.altKey) return;
    e.preventDefault();
    const p = await pickerFor(input);
    if (!p) return;
    p.open();
    p.el.querySelector('[data-dp-day][tabindex="0"]')?.focus();
  });
})();
