// SignalSmith Insights dashboard: optional enhancements. Every page works without this file;
// it adds column sorting (empty cells last), live filtering of the sync table and chart
// tooltips.
"use strict";

// A cell's sort key; null for an empty data-value (no value: "—"), which sorts last
// whichever the direction.
function sortValue(cell, numeric) {
  if (cell.dataset.value === "") return null;
  const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  if (!numeric) return raw.toLowerCase();
  const value = parseFloat(raw);
  return Number.isNaN(value) ? null : value;
}

function compareCells(x, y, ascending) {
  if (x === null || y === null) return (x === null) - (y === null);
  return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
}

function makeSortable(table) {
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach((th, column) => {
    const kind = th.dataset.sort;
    if (!kind) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort-button";
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((row) => row.cells.length === headers.length);
      rows.sort((a, b) => compareCells(
        sortValue(a.cells[column], kind === "number"),
        sortValue(b.cells[column], kind === "number"),
        ascending,
      ));
      rows.forEach((row) => body.append(row));
    });
  });
}

function wireFilters() {
  const text = document.querySelector("[data-filter-text]");
  if (!text) return;
  const table = document.getElementById(text.dataset.filterText);
  if (!table) return; // a refused request shows the form without the table
  // Selects that keep rows whose data-<key> equals their value ("all": every row).
  const selects = [
    [document.querySelector("[data-filter-state]"), "state"],
    [document.querySelector("[data-filter-band]"), "band"],
  ].filter(([select]) => select);
  const count = document.querySelector(`[data-count-for="${table.id}"]`);
  const apply = () => {
    const needle = text.value.trim().toLowerCase();
    let shown = 0;
    Array.from(table.tBodies[0].rows).forEach((row) => {
      if (row.dataset.name === undefined) return;
      const match = row.dataset.name.includes(needle)
        && selects.every(([select, key]) => select.value === "all" || row.dataset[key] === select.value);
      row.hidden = !match;
      if (match) shown += 1;
    });
    if (count) count.textContent = String(shown);
  };
  text.addEventListener("input", apply);
  selects.forEach(([select]) => select.addEventListener("change", apply));
}

function wireTooltips() {
  const tip = document.createElement("div");
  tip.className = "tooltip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.append(tip);
  document.querySelectorAll("svg.chart title").forEach((title) => {
    const target = title.parentElement;
    target.dataset.tip = title.textContent;
    title.remove(); // the styled tooltip replaces the browser's own
    target.setAttribute("aria-label", target.dataset.tip);
    target.addEventListener("mouseenter", () => { tip.textContent = target.dataset.tip; tip.hidden = false; });
    target.addEventListener("mousemove", (event) => {
      tip.style.left = `${event.clientX + 12}px`;
      tip.style.top = `${event.clientY + 12}px`;
    });
    target.addEventListener("mouseleave", () => { tip.hidden = true; });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table[data-sortable]").forEach(makeSortable);
  wireFilters();
  wireTooltips();
});
