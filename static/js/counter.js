// Counter mode and the customer display. Progressive: without this file the pages still work
// (the counter through its forms and the bill's status poll, the display by reloading).
(function () {
  "use strict";

  // --- the cashier's counter --------------------------------------------------------------

  var SOUND_KEY = "counter-sound";

  function soundOn() {
    try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  // A short two-note chime made on the spot: no audio file to download.
  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      var ctx = new Context();
      var start = ctx.currentTime + 0.02;
      [880, 1320].forEach(function (frequency, i) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + i * 0.18);
        gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.18 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.35);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + i * 0.18);
        osc.stop(start + i * 0.18 + 0.4);
      });
      if (ctx.state === "suspended") ctx.resume();
      setTimeout(function () { ctx.close(); }, 1200);
    } catch (e) { /* no sound is not an error */ }
  }

  function setupSoundToggle(button) {
    var show = function () {
      var on = soundOn();
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = button.getAttribute(on ? "data-label-on" : "data-label-off");
    };
    button.addEventListener("click", function () {
      try { localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on"); } catch (e) { return; }
      show();
      if (soundOn()) chime(); // the cashier hears what it will sound like
    });
    show();
  }

  function setupCounter(root) {
    var toggle = root.querySelector("[data-sound-toggle]");
    if (toggle) setupSoundToggle(toggle);
    var paid = root.querySelector("[data-paid-bill]");
    if (paid && soundOn()) {
      var id = paid.getAttribute("data-paid-bill");
      var last = null;
      try { last = sessionStorage.getItem("counter-chimed"); } catch (e) { /* private mode */ }
      if (last !== id) {
        chime();
        try { sessionStorage.setItem("counter-chimed", id); } catch (e) { /* private mode */ }
      }
    }
    // N (or Escape) is "Next customer" when the cashier is not typing in a field.
    var next = document.getElementById("next-customer");
    document.addEventListener("keydown", function (event) {
      if (!next || event.ctrlKey || event.metaKey || event.altKey) return;
      var tag = (event.target && event.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
      if (event.key === "n" || event.key === "N" || event.key === "Escape") {
        event.preventDefault();
        next.requestSubmit ? next.requestSubmit() : next.submit();
      }
    });
    setupArrivals(root);
  }

  // Payments customers make through this counter's QR posters: the panel is polled (htmx);
  // a payment that turns Paid after the page opened chimes once.
  function setupArrivals(root) {
    var panel = root.querySelector("[data-arrivals]");
    if (!panel) return;
    var known = {};
    var mark = function () {
      var fresh = [];
      panel.querySelectorAll("[data-self-paid]").forEach(function (row) {
        var id = row.getAttribute("data-self-paid");
        if (!known[id]) fresh.push(id);
        known[id] = true;
      });
      return fresh;
    };
    mark(); // what was paid before the page opened makes no sound
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.target !== panel) return;
      if (mark().length && soundOn()) chime();
    });
  }

  // --- the customer display ---------------------------------------------------------------

  function setupDisplay(box) {
    var url = box.getAttribute("data-display-poll");
    var delay = (parseInt(box.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
    var last = null;
    var timer = null;
    var tick = function () {
      clearTimeout(timer);
      if (document.hidden) return; // visibilitychange starts it again
      // The browser revalidates with If-None-Match: unchanged answers are a 304 with no body.
      fetch(url, { credentials: "omit", headers: { "X-Poll": "1" } })
        .then(function (response) {
          if (response.status === 410) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html && html !== last) {
            last = html;
            var current = document.getElementById("display-state");
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var fresh = holder.querySelector("#display-state");
            if (current && fresh) current.replaceWith(fresh);
          }
        })
        .catch(function () { /* the next tick tries again */ })
        .then(function () { timer = setTimeout(tick, delay); });
    };
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
    timer = setTimeout(tick, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var counter = document.querySelector("[data-counter]");
    if (counter) setupCounter(counter);
    var display = document.querySelector("[data-display-poll]");
    if (display) setupDisplay(display);
  });
})();
