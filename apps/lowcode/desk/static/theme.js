// Dark mode: Bootstrap 5.3's data-bs-theme follows the system's colour scheme, unless the
// page already names a theme (the user's choice). Loaded in <head>, before the body is
// drawn, so a dark page never flashes white.
(function () {
  "use strict";
  const root = document.documentElement;
  if (root.dataset.themeChoice && root.dataset.themeChoice !== "auto") return;
  const dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const apply = () => root.setAttribute("data-bs-theme", dark && dark.matches ? "dark" : "light");
  apply();
  if (dark && dark.addEventListener) dark.addEventListener("change", apply);
})();
