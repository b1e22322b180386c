/* The Quotation form, live: a product chosen on a line brings its rate (the price list's,
   else the product's standard rate: crm_app.totals.item_details) and description; line
   amounts and the totals follow as the user types. The figures are computed as the save
   computes them (crm_app/totals.py, quotation.py: same order of operations, same
   rounding) and shown as the desk shows amounts (desk/formatting.py, through the page's
   data-number-format); the saved document stays the authority. */
(function () {
  "use strict";
  const form = document.getElementById("doc-form");
  if (!form || form.dataset.doctype !== "Quotation") return;
  const nf = JSON.parse(document.body.dataset.numberFormat || "{}");
  const LOCAL_DIGITS = "۰۱۲۳۴۵۶۷۸۹";

  // What the user typed -> a number, as the server reads it (formatting.parse_input).
  const number = (input) => {
    const text = String(input?.value ?? "").replace(/[۰-۹]/g, (d) => String(LOCAL_DIGITS.indexOf(d)))
      .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[,٬\s\u2066-\u2069]/g, "");
    const n = parseFloat(text);
    return Number.isFinite(n) ? n : 0;
  };
  // totals.round_money: two decimals, halves away from zero on the exact value
  const money = (x) => Number(x.toFixed(2)) || 0;

  // formatting.format_value for a Currency field: the currency's decimals, grouping, digits
  function amountText(value) {
    const decimals = nf.currency_precision ?? 2;
    const parts = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
      .formatToParts(value);
    let text = parts.map((p) => (p.type === "group" ? nf.group : p.type === "decimal" ? nf.decimal : p.value)).join("");
    if (nf.local_digits) text = text.replace(/[0-9]/g, (d) => LOCAL_DIGITS[d]);
    return `${text} ${nf.currency || ""}`.trim();
  }
  function show(el, value) {
    if (!el) return;
    const bdi = document.createElement("bdi");
    bdi.dir = "ltr";
    bdi.textContent = amountText(value);
    el.replaceChildren(bdi);
    el.dataset.value = String(value);
  }
  // a computed cell of a row: the posted hidden input and the formatted text beside it
  function setCell(row, table, field, value) {
    const input = row.querySelector(`input[type=hidden][name$="-${field}"][name^="${table}-"]`);
    if (!input) return;
    input.value = String(value);
    show(row.querySelector(`[data-for="${input.name}"]`), value);
  }
  const field = (row, name) => row.querySelector(`[name$="-${name}"]`);
  const rows = (table) => [...form.querySelectorAll(`table[data-table="${table}"] tbody tr`)]
    .filter((row) => !row.querySelector('[name$="-__delete"]')?.checked);

  function recompute() {
    let total = 0;
    for (const row of rows("items")) {
      const gross = number(field(row, "qty")) * number(field(row, "rate"));
      const amount = money(gross * (1 - number(field(row, "discount_percentage")) / 100));
      setCell(row, "items", "amount", amount);
      total += amount;
    }
    total = money(total);
    const base = total - number(form.querySelector('[name="discount_amount"]'));
    let taxes = 0;
    for (const row of rows("taxes")) {
      const tax = money(base * number(field(row, "rate")) / 100);
      setCell(row, "taxes", "tax_amount", tax);
      taxes += tax;
    }
    show(document.getElementById("f-total"), total);
    show(document.getElementById("f-net_total"), money(base));
    show(document.getElementById("f-total_taxes"), money(taxes));
    show(document.getElementById("f-grand_total"), money(base + taxes));
  }

  // A product chosen (picked from the list, or typed and left): its rate and description.
  async function fillProduct(row, input) {
    if (!input.value.trim()) return;
    const q = new URLSearchParams({ product: input.value.trim() });
    const priceList = form.querySelector('[name="price_list"]')?.value;
    const date = form.querySelector('[name="transaction_date"]')?.value;
    if (priceList) q.set("price_list", priceList);
    if (date) q.set("date", date);
    const r = await fetch("/api/method/crm_app.totals.item_details?" + q, { credentials: "same-origin" });
    if (!r.ok || input.value.trim() !== q.get("product")) return;  // unknown or unreadable, or changed since
    const item = (await r.json()).message;
    field(row, "rate").value = String(item.rate);
    for (const name of ["description", "uom"]) {
      const el = field(row, name);
      if (el && item[name]) el.value = item[name];
    }
    recompute();
  }

  form.addEventListener("grid-row-change", (e) => {
    const { fieldname, row, input, type } = e.detail;
    if (fieldname === "product") {
      // taken when left (change) or picked from the suggestions (the value is an option)
      if (type === "change" || [...(input.list?.options || [])].some((o) => o.value === input.value)) {
        fillProduct(row, input);
      }
      return;
    }
    recompute();
  });
  form.querySelector('[name="discount_amount"]')?.addEventListener("input", recompute);
})();
