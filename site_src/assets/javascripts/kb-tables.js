/* The comparison table: sortable by every column (tablesort, shipped under vendor/) and filterable by
   modality, license and CUDA. The page marks the table with a paragraph of class `kb-compare` just
   before it; everything else (the sort keys of figures, the filter controls) is added here, so the
   page's HTML stays plain, but for keys only the generator knows (a context window's unit), which a
   cell carries on a `<span data-sort>`. Works offline: no request leaves the site. */
(function () {
  "use strict";

  var SCALE = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 };

  /* "7.7M" -> 7700000, "~2.5B" -> 2500000000, "50000" -> 50000; anything else sorts last. */
  function count(text) {
    var m = /^~?\s*([0-9]+(?:\.[0-9]+)?)\s*([KMBT])?\b/i.exec(text.trim());
    if (!m) return -1;
    return parseFloat(m[1]) * (m[2] ? SCALE[m[2].toUpperCase()] : 1);
  }

  function cellText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll("sup").forEach(function (s) { s.remove(); }); /* footnote marks */
    return copy.textContent.trim();
  }

  function findTable(marker) {
    for (var el = marker.nextElementSibling; el; el = el.nextElementSibling) {
      if (el.tagName === "TABLE") return el;
      var inner = el.querySelector && el.querySelector("table");
      if (inner) return inner;
    }
    return null;
  }

  function columnIndex(table, name) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].textContent.trim() === name) return i;
    }
    return -1;
  }

  var NUMERIC = ["Parameters", "Embedding dim", "VRAM (inference)"];
  var FILTERS = [["Modality", "Modality"], ["Code license", "Code license"],
                 ["Weights license", "Weights license"], ["Needs CUDA", "Needs CUDA"]];

  function setUp(marker) {
    var table = findTable(marker);
    if (!table || table.dataset.kbReady) return;
    table.dataset.kbReady = "1";
    table.setAttribute("data-kb-sortable", "");
    var rows = [].slice.call(table.tBodies[0].rows);

    NUMERIC.forEach(function (name) {
      var col = columnIndex(table, name);
      if (col < 0) return;
      table.tHead.rows[0].cells[col].setAttribute("data-sort-method", "number");
      rows.forEach(function (row) { row.cells[col].setAttribute("data-sort", String(count(cellText(row.cells[col])))); });
    });
    /* A cell whose page gives its sort key (`<span data-sort>`: the context window, keyed by length
       within its unit, the units apart) sorts by that key, numerically. */
    rows.forEach(function (row) {
      [].forEach.call(row.cells, function (cell, col) {
        var keyed = cell.querySelector("[data-sort]");
        if (!keyed) return;
        cell.setAttribute("data-sort", keyed.getAttribute("data-sort"));
        table.tHead.rows[0].cells[col].setAttribute("data-sort-method", "number");
      });
    });
    if (typeof window.Tablesort === "function") new window.Tablesort(table);

    var bar = document.createElement("form");
    bar.className = "kb-filters";
    bar.setAttribute("role", "search");
    bar.setAttribute("aria-label", "Filter the comparison table");
    var selects = [];
    FILTERS.forEach(function (f) {
      var col = columnIndex(table, f[0]);
      if (col < 0) return;
      var values = [];
      rows.forEach(function (row) {
        var v = cellText(row.cells[col]);
        if (values.indexOf(v) < 0) values.push(v);
      });
      values.sort();
      var label = document.createElement("label");
      label.textContent = f[1] + " ";
      var select = document.createElement("select");
      select.name = f[0];
      select.dataset.column = String(col);
      var all = document.createElement("option");
      all.value = "";
      all.textContent = "all";
      select.appendChild(all);
      values.forEach(function (v) {
        var o = document.createElement("option");
        o.value = v;
        o.textContent = v;
        select.appendChild(o);
      });
      select.addEventListener("change", apply);
      label.appendChild(select);
      bar.appendChild(label);
      selects.push(select);
    });
    var shown = document.createElement("output");
    shown.className = "kb-filters__count";
    bar.appendChild(shown);

    function apply() {
      var visible = 0;
      rows.forEach(function (row) {
        var ok = selects.every(function (s) {
          return !s.value || cellText(row.cells[Number(s.dataset.column)]) === s.value;
        });
        row.hidden = !ok;
        if (ok) visible++;
      });
      shown.textContent = visible + " of " + rows.length + " models";
    }
    apply();
    marker.parentNode.insertBefore(bar, marker.nextSibling);
  }

  function init() {
    document.querySelectorAll(".md-typeset .kb-compare").forEach(setUp);
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
