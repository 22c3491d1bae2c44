// @ts-check
// The new-batch form: name, mode, {{variable}} template, rows (pasted lines, a CSV or none), a sweep of
// registry options as chips, shared generate options; checked live with POST /v1/batches/validate.
import { loadModels } from "./state.js";
import { h, nextId, debounce, formatUsd, formatInt, clear, reportError, toast } from "./ui.js";
import { batchApi } from "./batchapi.js";

/** @typedef {import("./batchapi.js").BatchCheck} BatchCheck @typedef {import("./batchapi.js").Batch} Batch */

/**
 * @param {HTMLFormElement} form
 * @param {(batch: Batch) => void} onCreated
 */
export async function mountBatchForm(form, onCreated) {
  const catalogue = await loadModels();
  const models = catalogue.data.filter((m) => m.enabled !== false && m.endpoints.includes("generations"));
  const id = nextId("batch");
  const field = (/** @type {string} */ label, /** @type {HTMLElement} */ control, hint = "") =>
    h("div", { class: "field" }, h("label", { for: control.id, text: label }), control, hint ? h("small", { text: hint }) : null);
  const name = h("input", { id: `${id}-name`, name: "name", maxlength: 200, required: true, placeholder: "Spring posters" });
  const mode = h("select", { id: `${id}-mode`, name: "mode" },
    h("option", { value: "live", text: "Live (ordinary queue)" }),
    h("option", { value: "openai_batch", text: "OpenAI Batch (about half price, answered within 24 h)" }));
  const prompt = h("textarea", { id: `${id}-prompt`, name: "prompt", rows: 3, required: true, placeholder: "A poster of {{animal}} in {{style}} style" });
  const source = h("select", { id: `${id}-source`, name: "source" },
    h("option", { value: "csv", text: "CSV (first line names the variables)" }),
    h("option", { value: "lines", text: "Pasted lines (each line fills {{line}})" }),
    h("option", { value: "none", text: "No rows (sweep only)" }));
  const data = h("textarea", { id: `${id}-data`, name: "data", rows: 6, spellcheck: false, placeholder: "animal,style\nfox,watercolour\nowl,ink" });
  const file = h("input", { id: `${id}-file`, type: "file", accept: ".csv,text/csv,text/plain" });
  const model = h("select", { id: `${id}-model`, name: "model" },
    ...models.map((m) => h("option", { value: m.id, text: m.display_name || m.id, selected: m.id === catalogue.default_model })));
  const sweep = h("fieldset", { class: "field batch-sweep", id: `${id}-sweep` }, h("legend", { text: "Sweep (every combination of the chosen options)" }),
    chipGroup("model", "Models", models.map((m) => m.id)),
    chipGroup("quality", "Qualities", unique(models.flatMap((m) => m.qualities))),
    chipGroup("size", "Sizes", unique(models.flatMap((m) => m.sizes.fixed))));
  const estimate = h("output", { id: "batch-estimate", class: "batch-estimate", "aria-live": "polite" });
  const errors = h("ul", { id: "batch-errors", class: "batch-errors", "aria-label": "Problems with this batch" });
  const submit = h("button", { class: "btn btn-primary", type: "submit", text: "Create batch" });
  form.append(h("div", { class: "accounts-columns" }, field("Name", name), field("Mode", mode)),
    field("Prompt template", prompt, "Write {{name}} where a row's value goes."),
    h("div", { class: "accounts-columns" }, field("Rows from", source), field("Upload a CSV", file)),
    field("Rows", data), field("Model (when not swept)", model), sweep, estimate, errors, submit);

  /** @returns {Record<string, unknown>} */
  const body = () => {
    /** @type {Record<string, unknown>} */
    const b = { name: name.value.trim(), mode: mode.value, prompt: prompt.value };
    const text = data.value.replace(/\r\n/g, "\n");
    if (source.value === "csv" && text.trim()) b.csv = text;
    if (source.value === "lines") b.rows = text.split("\n").filter((l) => l.trim()).map((line) => ({ line }));
    /** @type {Record<string, string[]>} */
    const chosen = {};
    for (const cb of /** @type {NodeListOf<HTMLInputElement>} */ (sweep.querySelectorAll("input:checked"))) {
      (chosen[cb.name] ??= []).push(cb.value);
    }
    if (Object.keys(chosen).length) b.sweep = chosen;
    if (!chosen.model) b.model = model.value;
    return b;
  };

  /** @type {AbortController | null} */
  let inflight = null;
  const check = async () => {
    inflight?.abort();
    inflight = new AbortController();
    try {
      show(await batchApi.validate(body(), inflight.signal), estimate, errors);
    } catch (e) {
      reportError(e, form, "Check");
    }
  };
  const later = debounce(check, 400);
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > 32 * 1024 * 1024) {
      toast("The CSV is larger than 32 MB.");
      return;
    }
    data.value = await f.text();
    source.value = "csv";
    void check();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      const result = await batchApi.validate(body());
      show(result, estimate, errors);
      if (result.valid) {
        onCreated(await batchApi.create(body()));
        toast("Batch created", "success");
      } else {
        errors.querySelector("li")?.scrollIntoView({ block: "nearest" });
      }
    } catch (e) {
      reportError(e, form, "Create batch");
    } finally {
      submit.disabled = false;
    }
  });
}

/** @param {string} option @param {string} legend @param {string[]} values */
function chipGroup(option, legend, values) {
  return h("fieldset", { class: "batch-chips" }, h("legend", { text: legend }),
    ...values.map((v) => h("label", { class: "chip" }, h("input", { type: "checkbox", name: option, value: v }), ` ${v}`)));
}

/** @param {string[]} values */
const unique = (values) => [...new Set(values)];

/** @param {BatchCheck} result @param {HTMLElement} estimate @param {HTMLElement} errors */
function show(result, estimate, errors) {
  estimate.textContent = `${formatInt(result.jobs)} job${result.jobs === 1 ? "" : "s"} from ${formatInt(result.rows)} row${result.rows === 1 ? "" : "s"} · estimated ${formatUsd(result.estimated_cost_usd)}`;
  estimate.dataset.valid = String(result.valid);
  clear(errors);
  for (const e of result.errors) {
    const where = [e.row !== null ? `Row ${e.row}` : null, e.field].filter(Boolean).join(" · ");
    errors.append(h("li", { dataset: { row: String(e.row ?? ""), field: e.field ?? "" } }, where ? h("strong", { text: `${where}: ` }) : null, e.message));
  }
  if (result.error_count > result.errors.length) errors.append(h("li", { text: `…and ${result.error_count - result.errors.length} more.` }));
}
