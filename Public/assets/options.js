// @ts-check
// The "advanced options" drawer shared by Generate and Edit. Every control is populated and limited
// from GET /v1/models so that impossible combinations cannot be chosen.
// Parts: optioncontrols.js (controls and fields), optionsync.js (offered values and constraints per model),
// optionparams.js (read, restore, check parameters), optionsizes.js (size labels and free-size rule).
import { createOptionControls, fillModelSelect } from "./optioncontrols.js";
import { liveParams } from "./deprecations.js";
import { applyConstraints, applyModel } from "./optionsync.js";
import { checkParams, chosenSize, readParams, writeParams } from "./optionparams.js";

export { sizeLabel, checkFreeSize } from "./optionsizes.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./api.js").JobParams} JobParams */
/** @typedef {import("./api.js").GenerateBody} GenerateBody */

/**
 * @typedef {{
 *   element: HTMLDetailsElement,
 *   model: () => Model,
 *   getParams: () => GenerateBody,
 *   setParams: (p: Partial<JobParams>) => void,
 *   validate: () => { field: string, message: string } | null,
 *   aspect: () => string | null,
 *   n: () => number,
 *   setHasMask: (hasMask: boolean) => void,
 *   setCatalogue: (next: ModelList) => string | null,
 * }} OptionsForm
 */

/**
 * @param {{ catalogue: ModelList, endpoint: "generations" | "edits", onChange: () => void }} o
 * @returns {OptionsForm}
 */
export function createOptions(o) {
  const { endpoint } = o;
  let catalogue = o.catalogue;
  const isEdit = endpoint === "edits";
  /** @param {ModelList} list */
  const offered = (list) => list.data.filter((m) => !m.endpoints || m.endpoints.includes(endpoint));
  let models = offered(catalogue);
  if (!models.length) throw new Error(`The server offers no model for ${endpoint}.`);
  const c = createOptionControls(models, catalogue, isEdit);
  const model = () => models.find((m) => m.id === c.modelSel.value) || models[0];
  let preserveTouched = false;
  c.preserve.addEventListener("change", () => (preserveTouched = true));

  c.modelSel.addEventListener("change", () => {
    applyModel(c, model(), catalogue);
    o.onChange();
  });
  for (const input of c.inputs) {
    input.addEventListener(input instanceof HTMLInputElement && input.type !== "checkbox" ? "input" : "change", () => {
      applyConstraints(c, model());
      o.onChange();
    });
  }
  c.nIn.addEventListener("change", () => {
    const v = Math.round(Number(c.nIn.value));
    c.nIn.value = String(Math.min(model().max_n, Math.max(1, Number.isFinite(v) ? v : 1)));
    applyConstraints(c, model());
    o.onChange();
  });

  const usable = models.filter((m) => m.enabled !== false);
  const preferred = usable.find((m) => m.id === catalogue.default_model) || usable.find((m) => m.status === "current") || usable[0] || models[0];
  if (preferred) c.modelSel.value = preferred.id;
  applyModel(c, model(), catalogue);

  return {
    element: c.element,
    model,
    n: () => Math.max(1, Number(c.nIn.value) || 1),
    /** The chosen WxH, or null for `auto` (the model picks; placeholders then guess and settle on the first preview). */
    aspect: () => {
      const s = chosenSize(c);
      return /^\d+x\d+$/.test(s) ? s : null;
    },
    validate: () => checkParams(c, model()),
    getParams: () => readParams(c, isEdit),
    setParams: (p) => {
      if (p.model && models.some((m) => m.id === p.model)) {
        c.modelSel.value = p.model;
        applyModel(c, model(), catalogue);
      }
      writeParams(c, model(), p);
      applyConstraints(c, model());
    },
    setHasMask: (hasMask) => {
      c.fPreserve.hidden = !hasMask;
      c.fFeather.hidden = !hasMask;
      if (hasMask && !preserveTouched) c.preserve.checked = true;
    },
    // A newer catalogue (a model shut down while the page was open): the picker offers what it offers now and keeps
    // the user's choices; a model no longer served gives way to its replacement. Returns the note to show, if any.
    setCatalogue: (next) => {
      if (!offered(next).length) return null;
      const params = /** @type {JobParams} */ (/** @type {unknown} */ (readParams(c, isEdit)));
      const live = liveParams(next, params);
      catalogue = next;
      models = offered(next);
      fillModelSelect(c.modelSel, models, next);
      c.modelSel.value = live.params.model;
      applyModel(c, model(), catalogue);
      writeParams(c, model(), live.params);
      applyConstraints(c, model());
      return live.note;
    },
  };
}
