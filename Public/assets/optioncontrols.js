// @ts-check
// The controls and fields of the options drawer (model, size, quality, background, format, compression, images,
// live previews, moderation, complexity, and for edits input fidelity, feather, keep unmasked pixels).
import { h, nextId } from "./ui.js";
import { createPreviewFields } from "./previewoptions.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {ReturnType<typeof createOptionControls>} OptionControls */

/**
 * Fills the model select: current models, then pinned snapshots, deprecated and retired ones in groups.
 * @param {HTMLSelectElement} sel
 * @param {Model[]} models
 * @param {ModelList} catalogue
 */
export function fillModelSelect(sel, models, catalogue) {
  sel.replaceChildren();
  /** @param {Model} m */
  const modelOption = (m) => {
    let text = m.display_name || m.id;
    if (m.snapshot_of) text = `${m.id} (snapshot)`;
    if (m.status === "deprecated") text += m.shutdown_date ? ` — deprecated, shuts down ${m.shutdown_date}` : " — deprecated";
    if (m.enabled === false) text += " — not enabled";
    return h("option", { value: m.id, text, disabled: m.enabled === false });
  };
  const current = models.filter((m) => m.status !== "deprecated" && !m.snapshot_of);
  const snapshots = models.filter((m) => m.status !== "deprecated" && m.snapshot_of);
  const deprecated = models.filter((m) => m.status === "deprecated");
  sel.append(...current.map(modelOption));
  if (snapshots.length) sel.append(h("optgroup", { label: "Pinned snapshots" }, ...snapshots.map(modelOption)));
  if (deprecated.length) sel.append(h("optgroup", { label: "Deprecated" }, ...deprecated.map(modelOption)));
  const retired = catalogue.retired || [];
  if (retired.length) {
    const grp = h("optgroup", { label: "Retired" });
    for (const r of retired) grp.append(h("option", { value: r.id, disabled: true, text: `${r.id} — retired ${r.retired_on}` }));
    sel.append(grp);
  }
}

/**
 * The free width × height row shown for "Custom…" sizes.
 * @param {string} pfx
 */
function freeSizeRow(pfx) {
  const wIn = h("input", { type: "number", inputmode: "numeric", min: "16", step: "16", value: "1536", "aria-label": "Width in pixels" });
  const hIn = h("input", { type: "number", inputmode: "numeric", min: "16", step: "16", value: "864", "aria-label": "Height in pixels" });
  wIn.name = "size_width";
  hIn.name = "size_height";
  wIn.id = `${pfx}-w`;
  hIn.id = `${pfx}-h`;
  const rule = h("span", { class: "hint free-rule" });
  const freeRow = h("div", { class: "free-size", hidden: true },
    h("label", { for: wIn.id, class: "visually-hidden", text: "Width" }), wIn,
    h("span", { "aria-hidden": "true", text: "×" }),
    h("label", { for: hIn.id, class: "visually-hidden", text: "Height" }), hIn, rule);
  return { wIn, hIn, rule, freeRow };
}

/**
 * @param {Model[]} models the models offered for this endpoint
 * @param {ModelList} catalogue
 * @param {boolean} isEdit
 */
export function createOptionControls(models, catalogue, isEdit) {
  const pfx = nextId(isEdit ? "eo" : "go");
  /**
   * @param {string} name
   * @param {string} text
   * @param {HTMLElement} control
   * @param {(HTMLElement | null)} [extra]
   */
  const field = (name, text, control, extra = null) => {
    control.id = `${pfx}-${name}`;
    if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement) control.name = name;
    return h("div", { class: "field", dataset: { for: name } },
      h("label", { for: control.id, text }), control, extra,
      h("p", { class: "field-error", hidden: true, "data-error-for": name, role: "status" }));
  };
  const c = {
    modelSel: h("select", {}),
    modelHint: h("p", { class: "hint" }),
    sizeSel: h("select", {}),
    ...freeSizeRow(pfx),
    qualitySel: h("select", {}),
    bgSel: h("select", {}),
    nIn: h("input", { type: "number", min: "1", value: "1", inputmode: "numeric" }),
    fmtSel: h("select", {}),
    compIn: h("input", { type: "range", min: "0", max: "100", step: "1", value: "85" }),
    compOut: h("output", { class: "range-value", text: "85" }),
    modSel: h("select", {}),
    cxSel: h("select", {}),
    partialSel: h("select", {}),
    fidSel: h("select", {}),
    preserve: h("input", { type: "checkbox", checked: true, id: `${pfx}-preserve_unmasked`, name: "preserve_unmasked" }),
    featherIn: h("input", { type: "range", min: "0", max: "128", step: "1", value: "8" }),
    featherOut: h("output", { class: "range-value", text: "8 px" }),
    summary: h("span", { class: "summary-chips" }),
    preview: createPreviewFields(catalogue, field),
  };
  const fields = {
    fModel: field("model", "Model", c.modelSel, c.modelHint),
    fSize: field("size", "Size", c.sizeSel, c.freeRow),
    fQuality: field("quality", "Quality", c.qualitySel),
    fBg: field("background", "Background", c.bgSel),
    fN: field("n", "Images", c.nIn),
    fFmt: field("output_format", "Format", c.fmtSel),
    fComp: field("output_compression", "Compression", c.compIn, c.compOut),
    fMod: field("moderation", "Moderation", c.modSel),
    fCx: field("complexity", "Complexity", c.cxSel),
    fPartial: field("partial_images", "Live previews", c.partialSel),
    fFid: field("input_fidelity", "Input fidelity", c.fidSel),
    fPreserve: h("div", { class: "field field-check", dataset: { for: "preserve_unmasked" } },
      c.preserve, h("label", { for: c.preserve.id, text: "Keep unmasked pixels exactly" }),
      h("p", { class: "field-error", hidden: true, "data-error-for": "preserve_unmasked" })),
    fFeather: field("feather", "Mask feather", c.featherIn, c.featherOut),
  };
  const f = fields;
  const grid = h("div", { class: "options-grid" },
    f.fModel, f.fSize, f.fQuality, f.fBg, f.fFmt, ...c.preview.fields, f.fComp, f.fN, f.fPartial, f.fMod, f.fCx,
    isEdit ? [f.fFid, f.fFeather, f.fPreserve] : null);
  const element = h("details", { class: "options" },
    h("summary", {}, h("span", { class: "summary-title", text: "Options" }), c.summary), grid);
  const inputs = [c.sizeSel, c.qualitySel, c.bgSel, c.fmtSel, c.compIn, c.modSel, c.cxSel, c.partialSel, c.fidSel,
    c.featherIn, c.preserve, c.nIn, c.wIn, c.hIn, ...c.preview.controls];
  fillModelSelect(c.modelSel, models, catalogue);
  return { ...c, ...fields, element, inputs };
}
