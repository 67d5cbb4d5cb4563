// Suggestions while typing, on <input data-suggest="URL">: a combobox (ARIA 1.2).
// Payers (the customer directory): two characters, arrows move, Enter picks the highlighted one
// (the form is not sent), Escape closes; with none highlighted, Enter sends the form as before.
// Items (data-suggest-mode="item", the price list): offered on focus, the most used first;
// Enter adds the highlighted or first one (an "item-chosen" event) and clears the field for the
// next; Enter in the empty field sends the form.
(function () {
  "use strict";
  var count = 0;

  function setup(input) {
    if (input.getAttribute("data-suggest-ready")) return;
    input.setAttribute("data-suggest-ready", "1");
    var url = input.getAttribute("data-suggest");
    var itemMode = input.getAttribute("data-suggest-mode") === "item";
    var minimum = itemMode ? 0 : 2;
    var list = document.createElement("ul");
    var listId = input.id + "-suggestions";
    var form = input.form;
    var kind = form ? form.querySelector("[name=payer_kind]") : null;
    var items = [];
    var active = -1;
    var asked = 0;
    var timer = null;
    list.id = listId;
    list.className = "list-group position-absolute w-100 shadow-sm payer-suggestions d-none";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-suggest-label") || "");
    input.parentNode.classList.add("position-relative");
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    function close() {
      items = [];
      active = -1;
      list.innerHTML = "";
      list.classList.add("d-none");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.classList.toggle("active", i === index);
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", listId + "-" + index);
      else input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var found = items[index];
      if (!found) return;
      if (itemMode) {
        close();
        input.value = "";
        input.dispatchEvent(new CustomEvent("item-chosen", { bubbles: true, detail: found }));
        return;
      }
      input.value = found.value;
      if (kind && kind.querySelector('option[value="' + found.kind + '"]')) kind.value = found.kind;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(found) {
      items = found;
      list.innerHTML = "";
      if (!found.length) { pickWhenShown = false; close(); return; }
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.className = "list-group-item list-group-item-action py-1";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "fw-semibold me-2";
        name.textContent = item.name || item.value;
        var detail = document.createElement("span");
        detail.className = "small text-nowrap";
        detail.textContent = itemMode ? item.price_text : (item.name ? item.value : item.kind_label);
        li.appendChild(name);
        li.appendChild(detail);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the field
          choose(i);
        });
        list.appendChild(li);
      });
      list.classList.remove("d-none");
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
      if (pickWhenShown) { pickWhenShown = false; choose(0); }
    }

    function ask() {
      var typed = input.value.trim();
      if (typed.length < minimum) { close(); return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(typed), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : [];
      }).then(function (found) {
        if (mine === asked && document.activeElement === input) show(found);
      }).catch(function () { /* no suggestions: typing still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    var pickWhenShown = false;
    input.addEventListener("keydown", function (event) {
      if (itemMode && event.key === "Enter" && !items.length && input.value.trim()) {
        // Typed faster than the suggestions came: add the first one when they do.
        event.preventDefault();
        pickWhenShown = true;
        clearTimeout(timer);
        ask();
        return;
      }
      if (!items.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && (active >= 0 || (itemMode && input.value.trim()))) {
        event.preventDefault();
        choose(active >= 0 ? active : 0);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    if (itemMode) input.addEventListener("focus", ask);
  }

  function enhance(root) {
    root.querySelectorAll("input[data-suggest]").forEach(function (input) {
      if (!input.id) input.id = "payer-suggest-" + (++count);
      setup(input);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
