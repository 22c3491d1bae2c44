// @ts-check
// Reading, restoring and checking the request parameters of the options drawer.
import { checkFreeSize } from "./optionsizes.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").JobParams} JobParams */
/** @typedef {import("./api.js").GenerateBody} GenerateBody */
/** @typedef {import("./optioncontrols.js").OptionControls} OptionControls */

/**
 * The chosen size: a fixed size, "auto", or the custom WxH.
 * @param {OptionControls} c
 */
export const chosenSize = (c) => (c.sizeSel.value === "custom" ? `${Number(c.wIn.value)}x${Number(c.hIn.value)}` : c.sizeSel.value);

/** @param {OptionControls} c @param {boolean} isEdit @returns {GenerateBody} */
export function readParams(c, isEdit) {
  /** @type {GenerateBody} */
  const p = {
    model: c.modelSel.value,
    n: Math.max(1, Number(c.nIn.value) || 1),
    size: chosenSize(c),
    quality: c.qualitySel.value,
    background: c.bgSel.value,
    output_format: c.fmtSel.value,
    moderation: c.modSel.value,
    partial_images: Number(c.partialSel.value) || 0,
  };
  if (!c.fComp.hidden) p.output_compression = Number(c.compIn.value);
  if (!c.fCx.hidden && c.cxSel.value) p.complexity = c.cxSel.value;
  Object.assign(p, c.preview.params(c.fmtSel.value));
  if (isEdit) {
    if (!c.fFid.hidden && c.fidSel.value) p.input_fidelity = c.fidSel.value;
    if (!c.fPreserve.hidden) p.preserve_unmasked = c.preserve.checked;
    if (!c.fFeather.hidden) p.feather = Number(c.featherIn.value);
  }
  return p;
}

/**
 * Restores saved parameters onto the controls of model `m` (values it does not offer are left).
 * @param {OptionControls} c
 * @param {Model} m
 * @param {Partial<JobParams>} p
 */
export function writeParams(c, m, p) {
  if (typeof p.size === "string") {
    if ([...c.sizeSel.options].some((op) => op.value === p.size)) c.sizeSel.value = p.size;
    else if (m.sizes.free && /^\d+x\d+$/.test(p.size)) {
      c.sizeSel.value = "custom";
      const [w, hh] = p.size.split("x");
      c.wIn.value = w;
      c.hIn.value = hh;
    }
  }
  /** @param {HTMLSelectElement} sel @param {unknown} v */
  const set = (sel, v) => {
    if (v === null || v === undefined) return;
    const s = String(v);
    if ([...sel.options].some((op) => op.value === s)) sel.value = s;
  };
  set(c.qualitySel, p.quality);
  set(c.bgSel, p.background);
  set(c.fmtSel, p.output_format);
  set(c.modSel, p.moderation);
  set(c.cxSel, p.complexity);
  set(c.partialSel, p.partial_images);
  set(c.fidSel, p.input_fidelity);
  if (typeof p.n === "number") c.nIn.value = String(Math.min(m.max_n, Math.max(1, p.n)));
  if (typeof p.output_compression === "number") c.compIn.value = String(p.output_compression);
  c.preview.set(p);
}

/**
 * The first field the model would refuse, or null.
 * @param {OptionControls} c
 * @param {Model} m
 */
export function checkParams(c, m) {
  if (c.sizeSel.value === "custom" && m.sizes.free) {
    const msg = checkFreeSize(Number(c.wIn.value), Number(c.hIn.value), m.sizes.free);
    if (msg) return { field: "size", message: msg };
  }
  const n = Number(c.nIn.value);
  if (!Number.isInteger(n) || n < 1 || n > m.max_n) return { field: "n", message: `Choose 1 to ${m.max_n} images.` };
  return c.preview.validate(c.fmtSel.value);
}
