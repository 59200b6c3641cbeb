// The suite's index.html: the verdict counts filter the rows (press one to hide or show its
// runs). The table is complete without this script; it only hides rows.

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const buttons = Array.from(document.querySelectorAll(".counts button[data-verdict]"));
  const rows = Array.from(document.querySelectorAll("tbody tr[data-verdict]"));
  const apply = () => {
    const shown = new Set(
      buttons
        .filter((b) => b.getAttribute("aria-pressed") === "true")
        .map((b) => b.dataset.verdict),
    );
    for (const row of rows) row.hidden = !shown.has(row.dataset.verdict);
  };
  for (const button of buttons) {
    button.addEventListener("click", () => {
      const pressed = button.getAttribute("aria-pressed") === "true";
      button.setAttribute("aria-pressed", pressed ? "false" : "true");
      apply();
    });
  }
})();
