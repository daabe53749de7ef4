/* A "print" button for the printable pages (ledger, minutes, slips): shown only where
   script runs, since it does nothing without it. No inline script (the CSP forbids it). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      window.print();
    });
  });
})();
