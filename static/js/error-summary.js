// After a failed submit: move focus to the error summary, so that screen-reader and keyboard
// users hear what went wrong first; each message's link then moves focus to its own field.
(function () {
  "use strict";
  function focusable(target) {
    if (target.matches("input, select, textarea, button")) return target;
    return target.querySelector("input:not([type=hidden]), select, textarea, button") || target;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    event.preventDefault();
    var field = focusable(target);
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
})();
