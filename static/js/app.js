// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">, with a visible confirmation.
  function setupCopy(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      var label = button.textContent; // texts come from the page, in the reader's language
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        var status = document.querySelector("[data-copy-status]");
        var text = source.value || source.textContent;
        var done = function () {
          if (status) status.textContent = button.getAttribute("data-copied-status") || "Link copied.";
          button.textContent = button.getAttribute("data-copied-label") || "Copied ✓";
          setTimeout(function () { button.textContent = label; }, 2500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source, done); });
        } else {
          fallbackCopy(source, done);
        }
      });
    });
  }

  function fallbackCopy(source, done) {
    source.select();
    try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
  }

  // The phone's share sheet where the browser has one.
  function setupWebShare(root) {
    root.querySelectorAll("[data-web-share]").forEach(function (button) {
      if (!navigator.share) return;
      button.classList.remove("d-none");
      button.addEventListener("click", function () {
        navigator.share({ text: button.getAttribute("data-share-text"),
                          url: button.getAttribute("data-share-url") }).catch(function () {});
      });
    });
  }

  function setupPrint(root) {
    root.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // A form that must count once: the server guarantees it, this only stops the second click.
  function setupOnce(root) {
    root.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        if (form.dataset.sent) return;
        form.dataset.sent = "1";
        setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) {
            b.disabled = true;
            if (b.dataset.onceLabel) b.textContent = b.dataset.onceLabel;
          });
        }, 0);
      });
    });
  }

  // Status that refreshes itself while the tab is visible, backing off from 5 s to 60 s.
  var poll = { timer: null, delay: 5000 };
  // A page may want a faster ceiling (the counter: a customer is waiting): <meta name="poll-max">.
  function pollCeiling() {
    var meta = document.querySelector("meta[name=poll-max]");
    return (meta && parseInt(meta.getAttribute("content"), 10)) || 60000;
  }
  function schedulePoll() {
    clearTimeout(poll.timer);
    var target = document.querySelector("[data-poll-url]");
    if (!target || !window.htmx) return;
    poll.timer = setTimeout(function () {
      if (document.hidden) return; // visibilitychange restarts it
      var current = document.querySelector("[data-poll-url]");
      if (!current) return;
      htmx.ajax("GET", current.getAttribute("data-poll-url"),
                { target: "#" + current.id, swap: "outerHTML", headers: { "X-Poll": "1" } })
        .then(function () {
          poll.delay = Math.min(Math.round(poll.delay * 1.6), pollCeiling());
          schedulePoll();
        }, function () {
          poll.delay = pollCeiling();
          schedulePoll();
        });
    }, Math.min(poll.delay, pollCeiling()));
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll.delay = 5000; schedulePoll(); }
  });

  // Bank picker: Tom Select with logos and the bank type, searchable, keyboard usable.
  function setupBankPicker(root) {
    if (!window.TomSelect) return;
    root.querySelectorAll("select[data-bank-picker]").forEach(function (select) {
      if (select.tomselect) return;
      var render = function (data, escape) {
        var logo = data.logo ? '<img class="bank-logo me-2" alt="" src="' + escape(data.logo) + '">' : "";
        var type = data.type ? ' <small class="text-secondary ms-1">' + escape(data.type) + "</small>" : "";
        return '<div class="d-flex align-items-center">' + logo + "<span>" + escape(data.text) + "</span>" + type + "</div>";
      };
      var picker = new TomSelect(select, {
        maxOptions: null,
        allowEmptyOption: true,
        searchField: ["text", "type"], // "mobile" finds the mobile-money banks
        render: { option: render, item: render },
      });
      // Tom Select refuses a paste while its search box is folded behind the chosen bank; a
      // pasted bank name is a search like a typed one, so the box opens and takes it.
      picker.onPaste = function () {
        if (!picker.isInputHidden) return;
        picker.isInputHidden = false;
        picker.wrapper.classList.remove("input-hidden");
      };
      // The label now names Tom Select's box; the hidden <select> it keeps in sync says the same.
      var labelledBy = picker.control_input.getAttribute("aria-labelledby");
      if (labelledBy) select.setAttribute("aria-labelledby", labelledBy);
      select.dispatchEvent(new Event("bank-picker-ready"));
    });
  }

  // The account field follows the chosen bank's mask: 0 is a digit, anything else is literal.
  // The server checks the same mask; this only helps typing.
  function imaskPattern(mask) {
    return mask.split("").map(function (c) {
      return c === "0" ? "0" : ("aA*#[]{}`\\".indexOf(c) >= 0 ? "\\" + c : c);
    }).join("");
  }

  function setupAccountMask(root) {
    root.querySelectorAll("select[data-mask-target]").forEach(function (select) {
      var input = document.querySelector(select.getAttribute("data-mask-target"));
      var help = document.getElementById("account-help");
      if (!input || select.dataset.maskReady) return;
      select.dataset.maskReady = "1";
      var masked = null;
      var apply = function () {
        var option = select.options[select.selectedIndex];
        var mask = option ? (option.getAttribute("data-mask") || "") : "";
        if (masked) { masked.destroy(); masked = null; }
        if (mask && window.IMask) {
          masked = IMask(input, { mask: imaskPattern(mask), lazy: true });
          input.placeholder = mask;
          if (help) {
            help.textContent = (help.getAttribute("data-format-label") || "Format: {mask} (0 = a digit)")
              .replace("{mask}", mask);
          }
        } else {
          input.placeholder = (help && help.getAttribute("data-free-placeholder")) || "Account number";
          if (help) help.textContent = help.getAttribute("data-free-label") || "As the bank writes it.";
        }
      };
      select.addEventListener("change", apply);
      apply();
    });
  }

  // A holder's name belongs to one bank's account: switching bank forgets it and checks again.
  function setupHolderRecheck(root) {
    root.querySelectorAll("select[data-holder-target]").forEach(function (select) {
      if (select.dataset.holderReady) return;
      select.dataset.holderReady = "1";
      select.addEventListener("change", function () {
        var holder = document.querySelector(select.getAttribute("data-holder-target"));
        var account = document.querySelector(select.getAttribute("data-mask-target"));
        if (!holder) return;
        var hint = document.createElement("p");
        hint.className = "small text-secondary mb-0";
        hint.setAttribute("data-testid", "holder-status");
        hint.textContent = holder.getAttribute("data-empty-hint") || "";
        holder.replaceChildren(hint);
        // The holder box looks the account up on its "change": same request as leaving the field.
        if (account && account.value.trim()) account.dispatchEvent(new Event("change"));
      });
    });
  }

  // After a failed submit, the first field in error gets the focus (and says it is invalid).
  function focusFirstError() {
    var invalid = document.querySelectorAll("main .is-invalid");
    invalid.forEach(function (field) { field.setAttribute("aria-invalid", "true"); });
    var first = invalid[0];
    if (!first) return;
    if (first.tomselect) { first.tomselect.focus(); return; }
    if (first.hidden || first.type === "hidden") return;
    first.focus();
    if (first.scrollIntoView) first.scrollIntoView({ block: "center" });
  }

  // A form sent after the session ended: what was typed comes back after logging in again
  // (the server kept it, minus passwords and one-time tokens, and says the form was not sent).
  function refillUnsentForm() {
    var holder = document.querySelector("[data-unsent-form]");
    if (!holder) return;
    var fields;
    try { fields = JSON.parse(holder.getAttribute("data-unsent-form")); } catch (e) { return; }
    Object.keys(fields || {}).forEach(function (name) {
      document.querySelectorAll("main form [name]").forEach(function (field) {
        if (field.name !== name) return;
        var value = fields[name];
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = field.value === value;
        } else if (field.type !== "hidden" && field.type !== "password" && field.type !== "file") {
          field.value = value;
        }
      });
    });
  }

  // A lookup the server could not answer replaces the box with one message (never piles up).
  document.addEventListener("htmx:responseError", lookupFailed);
  document.addEventListener("htmx:sendError", lookupFailed);
  function lookupFailed(event) {
    var holder = document.getElementById("holder");
    var target = event.detail && event.detail.target;
    if (!holder || target !== holder) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-warning py-2 mb-0";
    alert.setAttribute("data-testid", "holder-status");
    alert.textContent = holder.getAttribute("data-error-hint") || "";
    holder.replaceChildren(alert);
  }

  // A minute before the idle timeout, a warning with "Stay signed in"; polls do not count as
  // activity (the server ignores them too), other requests and other tabs do.
  var idle = { timer: null, box: null };
  function noteActivity() {
    try { localStorage.setItem("dashboard.lastActive", String(Date.now())); } catch (e) { /* private mode */ }
    scheduleIdleWarning();
  }
  function lastActive() {
    var mine = idle.loadedAt || Date.now();
    try { mine = Math.max(mine, Number(localStorage.getItem("dashboard.lastActive")) || 0); } catch (e) { /* ignore */ }
    return mine;
  }
  function scheduleIdleWarning() {
    var box = idle.box;
    if (!box) return;
    clearTimeout(idle.timer);
    var limit = Number(box.getAttribute("data-idle-seconds")) * 1000;
    var warnBefore = Number(box.getAttribute("data-warn-seconds") || 60) * 1000;
    var left = lastActive() + limit - Date.now();
    if (left <= 0) { showIdle("ended"); return; }
    if (left <= warnBefore) {
      showIdle("warning");
      idle.timer = setTimeout(scheduleIdleWarning, Math.min(left, 1000));
      return;
    }
    showIdle(null);
    idle.timer = setTimeout(scheduleIdleWarning, left - warnBefore);
  }
  function showIdle(state) {
    var box = idle.box;
    box.hidden = !state;
    box.querySelectorAll("[data-idle-state]").forEach(function (part) {
      part.hidden = part.getAttribute("data-idle-state") !== state;
    });
    if (state === "warning") {
      var left = Math.max(0, Math.round((lastActive() + Number(box.getAttribute("data-idle-seconds")) * 1000 - Date.now()) / 1000));
      box.querySelectorAll("[data-idle-left]").forEach(function (el) { el.textContent = String(left); });
    }
  }
  function staySignedIn() {
    var box = idle.box;
    fetch(box.getAttribute("data-keepalive-url"), {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // an ended session answers with a redirect to the login page
      headers: { "X-CSRFToken": box.getAttribute("data-csrf"), "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok) { noteActivity(); return; }
      showIdle("ended");
    }, function () { showIdle("warning"); });
  }
  function setupIdleWarning() {
    idle.box = document.querySelector("[data-idle-seconds]");
    if (!idle.box) return;
    idle.loadedAt = Date.now();
    idle.box.querySelectorAll("[data-stay-signed-in]").forEach(function (button) {
      button.addEventListener("click", staySignedIn);
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      var headers = (event.detail && event.detail.requestConfig && event.detail.requestConfig.headers) || {};
      if (headers["X-Poll"] !== "1") noteActivity();
    });
    window.addEventListener("storage", function (event) {
      if (event.key === "dashboard.lastActive") scheduleIdleWarning();
    });
    noteActivity();
  }

  function enhance(root) {
    setupCopy(root);
    setupWebShare(root);
    setupPrint(root);
    setupOnce(root);
    setupBankPicker(root);
    setupAccountMask(root);
    setupHolderRecheck(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.body.classList.add("js");
    refillUnsentForm();
    enhance(document);
    schedulePoll();
    focusFirstError();
    setupIdleWarning();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.target);
  });
  window.dashboard = { enhance: enhance };
})();

// The two Bootstrap behaviours the pages use, without Bootstrap's JavaScript bundle:
// the menu button of a narrow screen and the close button of a message.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggler = event.target.closest("[data-bs-toggle=collapse]");
    if (toggler) {
      var menu = document.querySelector(toggler.getAttribute("data-bs-target"));
      if (!menu) return;
      var open = menu.classList.toggle("show");
      toggler.setAttribute("aria-expanded", open ? "true" : "false");
      toggler.classList.toggle("collapsed", !open);
      return;
    }
    var dismiss = event.target.closest("[data-bs-dismiss=alert]");
    if (dismiss) {
      var alert = dismiss.closest(".alert");
      if (alert) alert.remove();
    }
  });
})();
