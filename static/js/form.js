/* VMem Lab — the run and compare forms: show the inputs that matter for the chosen workload
 * source, generator and tiers. Without JavaScript every input stays visible and usable. */
(() => {
  "use strict";
  const form = document.getElementById("run-form");
  if (!form) return;

  const sourceInputs = form.querySelectorAll('input[name="source"]');
  const generator = form.querySelector('select[name="wl_name"]');

  function currentSource() {
    const checked = form.querySelector('input[name="source"]:checked');
    return checked ? checked.value : "generator";
  }

  function refreshSource() {
    const source = currentSource();
    form.querySelectorAll(".source-panel").forEach((panel) => {
      panel.hidden = panel.dataset.source !== source;
    });
    // tokens per page applies to generators and literal sequences
    const tokens = form.querySelector('[name="wl_tokens"]');
    if (tokens && source === "sequence") {
      const field = tokens.closest(".field");
      form.querySelector('.source-panel[data-source="sequence"] .grid').appendChild(field);
    } else if (tokens && source === "generator") {
      const field = tokens.closest(".field");
      const seed = form.querySelector('[name="wl_seed"]').closest(".field");
      seed.parentNode.insertBefore(field, seed);
    }
  }

  function refreshGenerator() {
    const name = generator ? generator.value : "";
    form.querySelectorAll("[data-generators]").forEach((field) => {
      field.hidden = !field.dataset.generators.split(" ").includes(name);
    });
  }

  function refreshTiers() {
    form.querySelectorAll(".tier-row").forEach((row) => {
      const toggle = row.querySelector('input[type="checkbox"]');
      const on = !toggle || toggle.checked;
      row.classList.toggle("off", !on);
      row.querySelectorAll("td input, td select").forEach((el) => { el.disabled = !on; });
      const kind = row.querySelector('select[name$="_latency"]');
      if (!kind || !on) return;
      const k = row.dataset.tier;
      const uses = {
        constant: ["ms"], uniform: ["low_ms", "high_ms"], lognormal: ["ms", "sigma"],
      }[kind.value] || [];
      for (const part of ["ms", "low_ms", "high_ms", "sigma"]) {
        const el = row.querySelector(`[name="t${k}_${part}"]`);
        if (el) el.classList.toggle("unused", !uses.includes(part));
      }
    });
  }

  sourceInputs.forEach((el) => el.addEventListener("change", refreshSource));
  if (generator) generator.addEventListener("change", refreshGenerator);
  form.addEventListener("change", (e) => {
    if (e.target.closest(".tier-row")) refreshTiers();
  });
  form.addEventListener("submit", () => {
    // disabled inputs are not submitted; the tier's checkbox already says it is off
    const button = form.querySelector('button[type="submit"]');
    if (button) { button.disabled = true; button.textContent = "Starting…"; }
  });
  refreshSource();
  refreshGenerator();
  refreshTiers();
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
