/* Knowledge-base suggestions while someone types: attaches to every
   <input data-kb-suggest="LANG"> (LANG: en, fa, he, or empty for every language) and
   lists matching published articles under it (service_app.knowledge_base.suggest).
   The list is built with textContent only: article titles and excerpts never become HTML.
   window.kbSuggest.attach(input) attaches an input added later (the desk's Case form). */
(function () {
  "use strict";
  var DELAY = 300;           // ms after the last key before asking the server
  var METHOD = "/api/method/service_app.knowledge_base.suggest";

  function localPath(url) {  // only this site's pages: never javascript:, //host or http(s)://host
    url = String(url || "");
    return url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\" ? url : null;
  }

  function attach(input) {
    if (!input || input.kbSuggest) return;
    input.kbSuggest = true;
    var box = document.createElement("div");
    box.className = "list-group kb-suggestions mt-1 shadow-sm";
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    (input.closest(".input-group") || input).insertAdjacentElement("afterend", box);
    var timer = null, last = null, asked = 0;

    function show(items) {
      box.replaceChildren();
      items.forEach(function (item) {
        var href = localPath(item.url);
        if (!href) return;
        var link = document.createElement("a");
        link.className = "list-group-item list-group-item-action";
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener";
        var title = document.createElement("div");
        title.className = "fw-semibold";
        title.textContent = item.title || "";
        var excerpt = document.createElement("small");
        excerpt.className = "text-body-secondary";
        excerpt.textContent = item.excerpt || "";
        link.append(title, excerpt);
        box.append(link);
      });
      box.hidden = !box.childElementCount;
    }

    function lookup() {
      var text = input.value.trim();
      var lang = input.getAttribute("data-kb-suggest") || "";
      if (text.length < 2) { last = null; show([]); return; }
      if (text + "\n" + lang === last) return;
      last = text + "\n" + lang;
      var mine = ++asked;
      var query = new URLSearchParams({text: text.slice(0, 200), lang: lang});
      fetch(METHOD + "?" + query, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {message: []}; })
        .then(function (data) { if (mine === asked) show(Array.isArray(data.message) ? data.message : []); })
        .catch(function () { /* suggestions are a help, never an error */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, DELAY);
    });
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") box.hidden = true; });
  }

  function attachAll() {
    document.querySelectorAll("input[data-kb-suggest]").forEach(attach);
  }

  window.kbSuggest = {attach: attach};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", attachAll);
  else attachAll();
})();
