/* The knowledge base's article page: counts the view with a POST once the page has
   loaded (the GET itself runs read-only; see service_app/kb_pages.py). */
(function () {
  "use strict";
  var article = document.querySelector("[data-kb-view]");
  var url = article && article.getAttribute("data-kb-view");
  if (!url || url.charAt(0) !== "/" || url.charAt(1) === "/") return;
  var token = document.querySelector('meta[name="csrf-token"]');
  fetch(url, {method: "POST", credentials: "same-origin", keepalive: true,
              headers: {"X-Frappe-CSRF-Token": token ? token.content : ""}}).catch(function () {});
})();
