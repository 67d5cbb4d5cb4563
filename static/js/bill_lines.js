// The lines of a bill (templates/bills/_lines.html): items chosen from the price list or free
// lines; the amount field always shows their sum. Without this file the rows work as a form.
(function () {
  "use strict";

  function digits(text) {
    var cleaned = String(text || "").replace(/[\s\u00a0\u202f.,]/g, "").replace(/FBu|BIF/gi, "");
    return /^\d+$/.test(cleaned) ? parseInt(cleaned, 10) : null;
  }

  function grouped(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  }

  function setup(block) {
    if (block.getAttribute("data-lines-ready")) return;
    block.setAttribute("data-lines-ready", "1");
    var form = block.closest("form");
    var amount = form ? form.querySelector("[name=amount]") : null;
    var body = block.querySelector("[data-lines-table] tbody");
    var finder = block.querySelector("[data-suggest-mode=item]");
    block.querySelectorAll("[data-js-only]").forEach(function (el) { el.classList.remove("d-none"); });
    block.querySelectorAll("tr[data-empty]").forEach(function (row) { row.classList.add("d-none"); });

    function rowOf(el) { return el.closest("tr[data-line]"); }
    function parts(row) {
      return {
        item: row.querySelector("[name=line_item]"), name: row.querySelector("[name=line_name]"),
        price: row.querySelector("[name=line_price]"), qty: row.querySelector("[name=line_qty]"),
        total: row.querySelector("[data-line-total]")
      };
    }

    function recalc() {
      var sum = 0;
      var any = false;
      body.querySelectorAll("tr[data-line]").forEach(function (row) {
        if (row.classList.contains("d-none")) return;
        var p = parts(row);
        var chosen = p.item.selectedOptions[0];
        var unit = p.item.value ? digits(chosen && chosen.getAttribute("data-price")) : digits(p.price.value);
        var qty = digits(p.qty.value) || 1;
        var free = !p.item.value;
        p.name.readOnly = !free;
        p.price.readOnly = !free;
        p.name.classList.toggle("invisible", !free); // an item's name and price are its own
        p.price.classList.toggle("invisible", !free);
        if (!free) { p.name.value = ""; p.price.value = ""; }
        p.total.textContent = unit ? grouped(unit * qty) : "";
        if (unit) { sum += unit * qty; any = true; }
      });
      if (amount && any) amount.value = grouped(sum);
    }

    function freeRow() {
      var row = body.querySelector("tr[data-empty].d-none");
      if (!row) {
        var last = body.querySelector("tr[data-line]:last-child");
        row = last.cloneNode(true);
        row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        row.querySelector("select").value = "";
        row.setAttribute("data-empty", "");
        body.appendChild(row);
      }
      row.classList.remove("d-none");
      row.removeAttribute("data-empty");
      return row;
    }

    if (finder) {
      finder.addEventListener("item-chosen", function (event) {
        var item = event.detail;
        var existing = null;
        body.querySelectorAll("tr[data-line]:not(.d-none)").forEach(function (row) {
          if (parts(row).item.value === String(item.id)) existing = row;
        });
        if (existing) {
          var p = parts(existing);
          p.qty.value = String((digits(p.qty.value) || 1) + 1);
        } else {
          var q = parts(freeRow());
          if (!q.item.querySelector('option[value="' + item.id + '"]')) {
            var option = document.createElement("option");
            option.value = item.id;
            option.setAttribute("data-price", item.price);
            option.textContent = item.name + " · " + item.price_text;
            q.item.appendChild(option);
          }
          q.item.value = String(item.id);
          q.qty.value = "1";
        }
        recalc();
        finder.focus();
      });
    }
    var addFree = block.querySelector("[data-add-free-line]");
    if (addFree) addFree.addEventListener("click", function () {
      var row = freeRow();
      recalc();
      parts(row).name.focus();
    });
    block.addEventListener("input", function (event) { if (rowOf(event.target)) recalc(); });
    block.addEventListener("change", function (event) { if (rowOf(event.target)) recalc(); });
    recalc();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lines]").forEach(setup);
  });
})();
