// The customer's bill page of a shop QR: while the payment is awaited, look again every 5 s
// (the server asks iHela at most once per bill every few seconds). Without this file the
// "Check again" link does the same by hand.
(function () {
  "use strict";
  var waiting = document.querySelector("[data-waiting]");
  if (!waiting) return;
  setTimeout(function () {
    if (!document.hidden) window.location.reload();
    else document.addEventListener("visibilitychange", function () { window.location.reload(); });
  }, 5000);
})();
