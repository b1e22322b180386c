/* The desk's Case form: suggest knowledge-base articles while the agent types the
   subject, in the case's language when one is chosen (see kb_suggest.js). */
(function () {
  "use strict";
  var subject = document.querySelector('form [name="subject"]');
  if (!subject || !window.kbSuggest) return;
  var language = document.querySelector('form select[name="language"]');
  function follow() { subject.setAttribute("data-kb-suggest", language ? language.value : ""); }
  follow();
  if (language) language.addEventListener("change", follow);
  window.kbSuggest.attach(subject);
})();
