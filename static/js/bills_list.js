// The open bills list keeps itself current: every 20 s while the tab is visible it asks what
// changed since the stamp it holds (an empty 304 when nothing did), changes the status of the
// rows on screen and the totals above them in place, and says discreetly when a bill was paid.
(function () {
  "use strict";
  function setup(box) {
    var DELAY = (parseInt(box.getAttribute("data-poll-seconds"), 10) || 20) * 1000;
    var url = box.getAttribute("data-list-poll");
    var stamp = box.getAttribute("data-stamp") || "0";
    var notice = document.querySelector("[data-list-notice]");
    var totals = document.querySelector("[data-list-totals]");
    var timer = null;
    var tick = function () {
      clearTimeout(timer);
      if (document.hidden) return; // visibilitychange starts it again
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      fetch(url + sep + "since=" + encodeURIComponent(stamp),
            { cache: "no-store", credentials: "same-origin", headers: { "X-Poll": "1" } })
        .then(function (response) {
          if (response.status === 200) return response.json();
          return null; // 304: nothing changed; anything else: try again later
        })
        .then(function (changes) {
          if (!changes) return;
          stamp = String(changes.stamp);
          Object.keys(changes.rows || {}).forEach(function (id) {
            var cell = box.querySelector('tr[data-bill-id="' + id + '"] [data-status-cell]');
            if (cell) cell.innerHTML = changes.rows[id];
          });
          // The totals follow the rows: a bill paid in place moves its francs too.
          if (typeof changes.totals === "string" && totals) totals.innerHTML = changes.totals;
          if (changes.notice && notice) {
            notice.textContent = changes.notice;
            notice.classList.remove("d-none");
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { timer = setTimeout(tick, DELAY); });
    };
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
    timer = setTimeout(tick, DELAY);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-list-poll]");
    if (box) setup(box);
  });
})();
