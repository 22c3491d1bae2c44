// @ts-check
// Generate screen: prompt, options drawer, live cost estimate, live results.
import { api, ApiError } from "./api.js";
import { loadModels, handoff, onModelsChanged, refreshModels } from "./state.js";
import { liveParams } from "./deprecations.js";
import { createOptions } from "./options.js";
import { createJobCard } from "./jobcard.js";
import { h, icon, debounce, clearFieldErrors, showFieldError, reportError, formatUsd, formatInt, nextId, toast } from "./ui.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./options.js").OptionsForm} OptionsForm */

/** @type {HTMLFormElement} */
let form;
/** @type {HTMLTextAreaElement} */
let prompt;
/** @type {OptionsForm} */
let options;
/** @type {HTMLElement} */
let results;
/** @type {HTMLElement} */
let estimateEl;
/** @type {HTMLButtonElement} */
let submitBtn;
/** @type {HTMLElement} */
let emptyState;
/** @type {AbortController | null} */
let estimateAbort = null;

/**
 * Grows the textarea with its content (up to a cap).
 * @param {HTMLTextAreaElement} ta
 */
export function autosize(ta) {
  const fit = () => {
    ta.style.height = "auto";
    ta.style.height = `${Math.min(ta.scrollHeight + 2, Math.max(160, window.innerHeight * 0.45))}px`;
  };
  ta.addEventListener("input", fit);
  requestAnimationFrame(fit);
  return fit;
}

/** @param {HTMLElement} panel */
export async function mount(panel) {
  panel.replaceChildren(h("div", { class: "screen" }, h("div", { class: "card composer skeleton-block" })));
  const catalogue = await loadModels();
  const promptId = nextId("prompt");
  prompt = h("textarea", {
    id: promptId, name: "prompt", rows: 3, class: "prompt", maxLength: 32000,
    placeholder: "A quiet harbour at dawn, mist over the water, soft film grain…",
    "aria-describedby": `${promptId}-hint`, autocomplete: "off", spellcheck: true,
  });
  const fit = autosize(prompt);
  options = createOptions({ catalogue, endpoint: "generations", onChange: () => scheduleEstimate() });
  onModelsChanged((list) => {
    const note = options.setCatalogue(list);
    if (note) toast(note, "info");
    scheduleEstimate();
  });
  estimateEl = h("p", { class: "estimate", "aria-live": "polite", text: "Write a prompt to see the estimated cost." });
  submitBtn = h("button", { type: "submit", class: "btn btn-primary btn-large" }, icon("sparkle"), h("span", { text: "Generate" }));
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform);
  form = h("form", { class: "card composer", novalidate: true, "aria-label": "Generate an image" },
    h("div", { class: "field field-prompt" },
      h("label", { for: promptId, class: "label-large", text: "Describe the image" }),
      prompt,
      h("p", { class: "field-error", hidden: true, "data-error-for": "prompt", role: "status" }),
      h("p", { class: "hint", id: `${promptId}-hint` }, "Press ", h("kbd", { text: isMac ? "⌘" : "Ctrl" }), "+", h("kbd", { text: "Enter" }), " to generate.")),
    options.element,
    h("div", { class: "composer-foot" }, estimateEl, submitBtn));
  emptyState = h("div", { class: "empty" },
    h("div", { class: "empty-art", "aria-hidden": "true" }, icon("image")),
    h("h2", { text: "Nothing here yet" }),
    h("p", { text: "Describe an image above and press Generate. Results appear here as they render." }));
  results = h("section", { class: "results", "aria-label": "Results" }, emptyState);
  panel.replaceChildren(h("div", { class: "screen" }, h("h1", { class: "visually-hidden", text: "Generate" }), form, results));

  prompt.addEventListener("input", () => scheduleEstimate());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void submit();
  });
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void submit();
    }
  });
  fit();
}

const scheduleEstimate = debounce(() => void estimate(), 350);

async function estimate() {
  estimateAbort?.abort();
  const text = prompt.value.trim();
  if (!text) {
    estimateEl.textContent = "Write a prompt to see the estimated cost.";
    return;
  }
  const invalid = options.validate();
  clearFieldErrors(form);
  if (invalid) {
    showFieldError(form, invalid.field, invalid.message, false);
    estimateEl.textContent = "Fix the highlighted option to see an estimate.";
    return;
  }
  const ctrl = new AbortController();
  estimateAbort = ctrl;
  estimateEl.classList.add("is-loading");
  try {
    const est = await api.estimate({ prompt: text, ...options.getParams() }, ctrl.signal);
    if (ctrl.signal.aborted) return;
    const out = est.tokens?.image_output ?? est.usage?.output_image_tokens ?? est.usage?.output_tokens;
    const tokens = out ? ` · ${formatInt(out)} output tokens` : "";
    const range = est.estimated_cost_range_usd;
    if (range && range.low_usd !== range.high_usd) {
      // quality=auto: the model picks, so show what it can cost rather than the dearest case as "≈".
      estimateEl.replaceChildren("Estimated cost ",
        h("strong", { text: `${formatUsd(range.low_usd)} – ${formatUsd(range.high_usd)}` }), " (auto quality: low to high)");
      return;
    }
    estimateEl.replaceChildren(
      "Estimated cost ", h("strong", { text: est.estimated_cost_usd === null ? "unknown" : `≈ ${formatUsd(est.estimated_cost_usd)}` }), tokens);
  } catch (e) {
    if (ctrl.signal.aborted) return;
    if (e instanceof ApiError && e.field) {
      showFieldError(form, e.field, e.message, false);
      estimateEl.textContent = "Fix the highlighted option to see an estimate.";
    } else {
      estimateEl.textContent = "Estimate unavailable.";
    }
  } finally {
    if (estimateAbort === ctrl) estimateEl.classList.remove("is-loading");
  }
}

let busy = false;
async function submit() {
  if (busy) return;
  clearFieldErrors(form);
  const text = prompt.value.trim();
  if (!text) {
    showFieldError(form, "prompt", "Write a prompt first.");
    return;
  }
  const invalid = options.validate();
  if (invalid) {
    showFieldError(form, invalid.field, invalid.message);
    return;
  }
  const params = options.getParams();
  const aspect = options.aspect() ?? "1024x1024";
  busy = true;
  submitBtn.disabled = true;
  submitBtn.classList.add("is-loading");
  try {
    const job = await api.generate({ prompt: text, ...params });
    addJob(job, aspect, options.n());
    handoff.historyDirty = true;
  } catch (e) {
    reportError(e, form, "Generate failed");
    // The model shut down while this page was open: the picker switches to its replacement (onModelsChanged).
    if (e instanceof ApiError && e.code === "model_retired") void refreshModels().catch(() => {});
  } finally {
    busy = false;
    submitBtn.disabled = false;
    submitBtn.classList.remove("is-loading");
  }
}

/** @param {Job} job @param {string} aspect @param {number} n */
function addJob(job, aspect, n) {
  emptyState.remove();
  const card = createJobCard(job, { aspect, count: n, onRerun: rerun });
  results.prepend(card.el);
}

/**
 * Re-runs a job's parameters: fills the form with them and submits.
 * @param {Job} job
 */
async function rerun(job) {
  const live = liveParams(await loadModels(), job.params);
  if (live.note) toast(live.note, "info");
  prompt.value = job.params.prompt;
  prompt.dispatchEvent(new Event("input"));
  options.setParams(live.params);
  window.scrollTo({ top: 0, behavior: "smooth" });
  void submit();
}

/** @param {string} _arg @param {URLSearchParams} _query */
export function show(_arg, _query) {
  if (handoff.generateParams) {
    const p = handoff.generateParams;
    handoff.generateParams = null;
    if (typeof p.prompt === "string") {
      prompt.value = p.prompt;
      prompt.dispatchEvent(new Event("input"));
    }
    options.setParams(p);
  }
  scheduleEstimate();
}
