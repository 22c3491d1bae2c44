// @ts-check
// Keeps the options drawer consistent with the chosen model: the values each select offers, the combinations
// that are allowed (transparent needs PNG/WebP, GIF/SVG never stream, SVG makes one image) and the summary chips.
import { h } from "./ui.js";
import { previewFormatsOf } from "./previewoptions.js";
import { sizeLabel } from "./optionsizes.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./optioncontrols.js").OptionControls} OptionControls */

const LABELS = /** @type {Record<string, string>} */ ({
  auto: "Auto", low: "Low", medium: "Medium", high: "High", xhigh: "Extra high", max: "Max",
  opaque: "Opaque", transparent: "Transparent", png: "PNG", jpeg: "JPEG", webp: "WebP", gif: "GIF", svg: "SVG",
});
/** @param {string} v */
export const label = (v) => LABELS[v] || v;

/** @param {HTMLSelectElement} sel @param {string[]} values @param {string} [preferred] @param {(v: string) => string} [fmt] */
function fill(sel, values, preferred, fmt = label) {
  const prev = sel.value;
  sel.replaceChildren(...values.map((v) => h("option", { value: v, text: fmt(v) })));
  if (values.includes(prev)) sel.value = prev;
  else if (preferred !== undefined && values.includes(preferred)) sel.value = preferred;
  else if (values.length) sel.value = values[0];
}

/**
 * Offers what model `m` supports.
 * @param {OptionControls} c
 * @param {Model} m
 * @param {ModelList} catalogue
 */
export function applyModel(c, m, catalogue) {
  c.modelHint.textContent = m.status === "deprecated"
    ? `Deprecated${m.shutdown_date ? ` — shuts down ${m.shutdown_date}` : ""}. Consider a current model.`
    : "";
  c.modelHint.classList.toggle("hint-warn", m.status === "deprecated");
  const sizes = [...(m.sizes.auto ? ["auto"] : []), ...m.sizes.fixed, ...(m.sizes.free ? ["custom"] : [])];
  fill(c.sizeSel, sizes, "auto", (v) => (v === "custom" ? "Custom…" : sizeLabel(v)));
  if (m.sizes.free) {
    const r = m.sizes.free;
    c.rule.textContent = `Multiples of ${r.multiple_of}, up to ${r.max_edge} px, ratio ≤ ${r.max_ratio}:1`;
    c.wIn.step = c.hIn.step = String(r.multiple_of);
    c.wIn.min = c.hIn.min = String(r.multiple_of);
    c.wIn.max = c.hIn.max = String(r.max_edge);
  }
  fill(c.qualitySel, m.qualities, m.default_quality || "auto");
  fill(c.bgSel, m.backgrounds, "auto");
  fill(c.fmtSel, [...m.output_formats, ...previewFormatsOf(m, catalogue)], "png");
  fill(c.modSel, m.moderations, "auto");
  c.nIn.max = String(m.max_n);
  if (Number(c.nIn.value) > m.max_n) c.nIn.value = String(m.max_n);
  const maxPartial = Math.min(3, m.max_partial_images ?? 3);
  fill(c.partialSel, Array.from({ length: maxPartial + 1 }, (_, i) => String(i)), "0",
    (v) => (v === "0" ? "Off" : `${v} preview${v === "1" ? "" : "s"}`));
  c.fCx.hidden = !(m.complexities && m.complexities.length);
  fill(c.cxSel, ["", ...(m.complexities || [])], "", (v) => (v ? label(v) : "Default"));
  c.fFid.hidden = !(m.input_fidelities && m.input_fidelities.length);
  fill(c.fidSel, ["", ...(m.input_fidelities || [])], "", (v) => (v ? label(v) : "Default"));
  applyConstraints(c, m);
}

/**
 * Disables what the current choices exclude.
 * @param {OptionControls} c
 * @param {Model} m
 */
export function applyConstraints(c, m) {
  // Transparent backgrounds need png or webp.
  const transparent = c.bgSel.value === "transparent";
  for (const opt of c.fmtSel.options) opt.disabled = transparent && !["png", "webp"].includes(opt.value);
  if (transparent && !["png", "webp"].includes(c.fmtSel.value)) {
    c.fmtSel.value = m.output_formats.includes("png") ? "png" : "webp";
  }
  for (const opt of c.bgSel.options) {
    opt.disabled = opt.value === "transparent" && !m.output_formats.some((f) => f === "png" || f === "webp");
  }
  c.fComp.hidden = !["jpeg", "webp"].includes(c.fmtSel.value);
  // GIF and SVG never stream; SVG makes exactly one image.
  const still = c.fmtSel.value === "gif" || c.fmtSel.value === "svg";
  c.fPartial.hidden = still;
  if (still) c.partialSel.value = "0";
  c.nIn.disabled = c.fmtSel.value === "svg";
  if (c.fmtSel.value === "svg") c.nIn.value = "1";
  c.preview.apply(c.fmtSel.value);
  c.compOut.textContent = c.compIn.value;
  c.featherOut.textContent = `${c.featherIn.value} px`;
  c.freeRow.hidden = c.sizeSel.value !== "custom";
  updateSummary(c, m);
}

/** @param {OptionControls} c @param {Model} m */
function updateSummary(c, m) {
  const n = Number(c.nIn.value) || 1;
  const size = c.sizeSel.value === "custom" ? `${c.wIn.value}×${c.hIn.value}` : c.sizeSel.value === "auto" ? "auto size" : c.sizeSel.value.replace("x", "×");
  const chips = [m.display_name || m.id, size, `${label(c.qualitySel.value).toLowerCase()} quality`, c.fmtSel.value.toUpperCase(),
    `${n} image${n === 1 ? "" : "s"}`];
  c.summary.replaceChildren(...chips.map((chip) => h("span", { class: "chip", text: chip })));
}
