// @ts-check
// The "advanced options" drawer shared by Generate and Edit. Every control is populated and limited
// from GET /v1/models so that impossible combinations cannot be chosen.
import { h, nextId } from "./ui.js";
import { createPreviewFields, previewFormatsOf } from "./previewoptions.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./api.js").FreeSizeRule} FreeSizeRule */
/** @typedef {import("./api.js").JobParams} JobParams */
/** @typedef {import("./api.js").GenerateBody} GenerateBody */

const LABELS = /** @type {Record<string, string>} */ ({
  auto: "Auto", low: "Low", medium: "Medium", high: "High", xhigh: "Extra high", max: "Max",
  opaque: "Opaque", transparent: "Transparent", png: "PNG", jpeg: "JPEG", webp: "WebP", gif: "GIF", svg: "SVG",
});
/** @param {string} v */
const label = (v) => LABELS[v] || v;

/** @param {number} a @param {number} b @returns {number} */
const gcd = (a, b) => (b ? gcd(b, a % b) : a);

/** @param {string} size */
export function sizeLabel(size) {
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (!m) return size === "auto" ? "Auto" : size;
  const w = Number(m[1]);
  const hh = Number(m[2]);
  const g = gcd(w, hh);
  return `${w} × ${hh} · ${w / g}:${hh / g}`;
}

/**
 * Checks a free WxH size against the model's rule. Returns an error message or null.
 * @param {number} w @param {number} hgt @param {FreeSizeRule} rule
 * @returns {string | null}
 */
export function checkFreeSize(w, hgt, rule) {
  if (!Number.isInteger(w) || !Number.isInteger(hgt) || w <= 0 || hgt <= 0) return "Enter a whole-number width and height.";
  if (w % rule.multiple_of || hgt % rule.multiple_of) return `Width and height must be multiples of ${rule.multiple_of}.`;
  if (Math.max(w, hgt) > rule.max_edge) return `The longer edge can be at most ${rule.max_edge} px.`;
  if (Math.max(w, hgt) / Math.min(w, hgt) > rule.max_ratio) return `The aspect ratio can be at most ${rule.max_ratio}:1.`;
  if (w * hgt < rule.min_pixels) return `At least ${rule.min_pixels.toLocaleString("en-US")} pixels (e.g. 1024 × 640).`;
  if (w * hgt > rule.max_pixels) return `At most ${rule.max_pixels.toLocaleString("en-US")} pixels (e.g. 3840 × 2160).`;
  return null;
}

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
 * }} OptionsForm
 */

/**
 * @param {{ catalogue: ModelList, endpoint: "generations" | "edits", onChange: () => void }} o
 * @returns {OptionsForm}
 */
export function createOptions(o) {
  const { catalogue, endpoint } = o;
  const isEdit = endpoint === "edits";
  const models = catalogue.data.filter((m) => !m.endpoints || m.endpoints.includes(endpoint));
  if (!models.length) throw new Error(`The server offers no model for ${endpoint}.`);
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
    const wrap = h("div", { class: "field", dataset: { for: name } },
      h("label", { for: control.id, text }), control, extra,
      h("p", { class: "field-error", hidden: true, "data-error-for": name, role: "status" }));
    return wrap;
  };

  const modelSel = h("select", {});
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
  modelSel.append(...current.map(modelOption));
  if (snapshots.length) modelSel.append(h("optgroup", { label: "Pinned snapshots" }, ...snapshots.map(modelOption)));
  if (deprecated.length) modelSel.append(h("optgroup", { label: "Deprecated" }, ...deprecated.map(modelOption)));
  const retired = catalogue.retired || [];
  if (retired.length) {
    const grp = h("optgroup", { label: "Retired" });
    for (const r of retired) grp.append(h("option", { value: r.id, disabled: true, text: `${r.id} — retired ${r.retired_on}` }));
    modelSel.append(grp);
  }
  const modelHint = h("p", { class: "hint" });

  const sizeSel = h("select", {});
  const wIn = h("input", { type: "number", inputmode: "numeric", min: "16", step: "16", value: "1536", "aria-label": "Width in pixels" });
  const hIn = h("input", { type: "number", inputmode: "numeric", min: "16", step: "16", value: "864", "aria-label": "Height in pixels" });
  wIn.name = "size_width";
  hIn.name = "size_height";
  wIn.id = `${pfx}-w`;
  hIn.id = `${pfx}-h`;
  const freeRow = h("div", { class: "free-size", hidden: true },
    h("label", { for: wIn.id, class: "visually-hidden", text: "Width" }), wIn,
    h("span", { "aria-hidden": "true", text: "×" }),
    h("label", { for: hIn.id, class: "visually-hidden", text: "Height" }), hIn,
    h("span", { class: "hint free-rule" }));

  const qualitySel = h("select", {});
  const bgSel = h("select", {});
  const nIn = h("input", { type: "number", min: "1", value: "1", inputmode: "numeric" });
  const fmtSel = h("select", {});
  const compIn = h("input", { type: "range", min: "0", max: "100", step: "1", value: "85" });
  const compOut = h("output", { class: "range-value", text: "85" });
  const modSel = h("select", {});
  const cxSel = h("select", {});
  const partialSel = h("select", {});
  const fidSel = h("select", {});
  const preserve = h("input", { type: "checkbox", checked: true });
  const featherIn = h("input", { type: "range", min: "0", max: "128", step: "1", value: "8" });
  const featherOut = h("output", { class: "range-value", text: "8 px" });

  const fModel = field("model", "Model", modelSel, modelHint);
  const fSize = field("size", "Size", sizeSel, freeRow);
  const fQuality = field("quality", "Quality", qualitySel);
  const fBg = field("background", "Background", bgSel);
  const fN = field("n", "Images", nIn);
  const fFmt = field("output_format", "Format", fmtSel);
  const fComp = field("output_compression", "Compression", compIn, compOut);
  const fMod = field("moderation", "Moderation", modSel);
  const fCx = field("complexity", "Complexity", cxSel);
  const fPartial = field("partial_images", "Live previews", partialSel);
  const fFid = field("input_fidelity", "Input fidelity", fidSel);
  const preserveId = `${pfx}-preserve_unmasked`;
  preserve.id = preserveId;
  preserve.name = "preserve_unmasked";
  const fPreserve = h("div", { class: "field field-check", dataset: { for: "preserve_unmasked" } },
    preserve, h("label", { for: preserveId, text: "Keep unmasked pixels exactly" }),
    h("p", { class: "field-error", hidden: true, "data-error-for": "preserve_unmasked" }));
  const fFeather = field("feather", "Mask feather", featherIn, featherOut);
  const preview = createPreviewFields(catalogue, field);

  const summary = h("span", { class: "summary-chips" });
  const grid = h("div", { class: "options-grid" },
    fModel, fSize, fQuality, fBg, fFmt, ...preview.fields, fComp, fN, fPartial, fMod, fCx,
    isEdit ? [fFid, fFeather, fPreserve] : null);
  const element = h("details", { class: "options" },
    h("summary", {}, h("span", { class: "summary-title", text: "Options" }), summary), grid);

  let preserveTouched = false;
  preserve.addEventListener("change", () => (preserveTouched = true));

  /** @param {HTMLSelectElement} sel @param {string[]} values @param {string} [preferred] @param {(v: string) => string} [fmt] */
  const fill = (sel, values, preferred, fmt = label) => {
    const prev = sel.value;
    sel.replaceChildren(...values.map((v) => h("option", { value: v, text: fmt(v) })));
    if (values.includes(prev)) sel.value = prev;
    else if (preferred !== undefined && values.includes(preferred)) sel.value = preferred;
    else if (values.length) sel.value = values[0];
  };

  const model = () => models.find((m) => m.id === modelSel.value) || models[0];

  const applyModel = () => {
    const m = model();
    modelHint.textContent = m.status === "deprecated"
      ? `Deprecated${m.shutdown_date ? ` — shuts down ${m.shutdown_date}` : ""}. Consider a current model.`
      : "";
    modelHint.classList.toggle("hint-warn", m.status === "deprecated");
    const sizes = [...(m.sizes.auto ? ["auto"] : []), ...m.sizes.fixed, ...(m.sizes.free ? ["custom"] : [])];
    fill(sizeSel, sizes, "auto", (v) => (v === "custom" ? "Custom…" : sizeLabel(v)));
    if (m.sizes.free) {
      const r = m.sizes.free;
      const rule = /** @type {HTMLElement} */ (freeRow.querySelector(".free-rule"));
      rule.textContent = `Multiples of ${r.multiple_of}, up to ${r.max_edge} px, ratio ≤ ${r.max_ratio}:1`;
      wIn.step = hIn.step = String(r.multiple_of);
      wIn.min = hIn.min = String(r.multiple_of);
      wIn.max = hIn.max = String(r.max_edge);
    }
    fill(qualitySel, m.qualities, m.default_quality || "auto");
    fill(bgSel, m.backgrounds, "auto");
    fill(fmtSel, [...m.output_formats, ...previewFormatsOf(m, catalogue)], "png");
    fill(modSel, m.moderations, "auto");
    nIn.max = String(m.max_n);
    if (Number(nIn.value) > m.max_n) nIn.value = String(m.max_n);
    const maxPartial = Math.min(3, m.max_partial_images ?? 3);
    fill(partialSel, Array.from({ length: maxPartial + 1 }, (_, i) => String(i)), "0",
      (v) => (v === "0" ? "Off" : `${v} preview${v === "1" ? "" : "s"}`));
    fCx.hidden = !(m.complexities && m.complexities.length);
    fill(cxSel, ["", ...(m.complexities || [])], "", (v) => (v ? label(v) : "Default"));
    fFid.hidden = !(m.input_fidelities && m.input_fidelities.length);
    fill(fidSel, ["", ...(m.input_fidelities || [])], "", (v) => (v ? label(v) : "Default"));
    applyConstraints();
  };

  const applyConstraints = () => {
    const m = model();
    // Transparent backgrounds need png or webp.
    const transparent = bgSel.value === "transparent";
    for (const opt of fmtSel.options) opt.disabled = transparent && !["png", "webp"].includes(opt.value);
    if (transparent && !["png", "webp"].includes(fmtSel.value)) {
      fmtSel.value = m.output_formats.includes("png") ? "png" : "webp";
    }
    for (const opt of bgSel.options) {
      opt.disabled = opt.value === "transparent" && !m.output_formats.some((f) => f === "png" || f === "webp");
    }
    fComp.hidden = !["jpeg", "webp"].includes(fmtSel.value);
    // GIF and SVG never stream; SVG makes exactly one image.
    const still = fmtSel.value === "gif" || fmtSel.value === "svg";
    fPartial.hidden = still;
    if (still) partialSel.value = "0";
    nIn.disabled = fmtSel.value === "svg";
    if (fmtSel.value === "svg") nIn.value = "1";
    preview.apply(fmtSel.value);
    compOut.textContent = compIn.value;
    featherOut.textContent = `${featherIn.value} px`;
    freeRow.hidden = sizeSel.value !== "custom";
    updateSummary();
  };

  const updateSummary = () => {
    const m = model();
    const n = Number(nIn.value) || 1;
    const size = sizeSel.value === "custom" ? `${wIn.value}×${hIn.value}` : sizeSel.value === "auto" ? "auto size" : sizeSel.value.replace("x", "×");
    const chips = [m.display_name || m.id, size, `${label(qualitySel.value).toLowerCase()} quality`, fmtSel.value.toUpperCase(),
      `${n} image${n === 1 ? "" : "s"}`];
    summary.replaceChildren(...chips.map((c) => h("span", { class: "chip", text: c })));
  };

  modelSel.addEventListener("change", () => {
    applyModel();
    o.onChange();
  });
  for (const c of [sizeSel, qualitySel, bgSel, fmtSel, compIn, modSel, cxSel, partialSel, fidSel, featherIn, preserve, nIn, wIn, hIn, ...preview.controls]) {
    c.addEventListener(c instanceof HTMLInputElement && c.type !== "checkbox" ? "input" : "change", () => {
      applyConstraints();
      o.onChange();
    });
  }
  nIn.addEventListener("change", () => {
    const m = model();
    const v = Math.round(Number(nIn.value));
    nIn.value = String(Math.min(m.max_n, Math.max(1, Number.isFinite(v) ? v : 1)));
    applyConstraints();
    o.onChange();
  });

  const usable = models.filter((m) => m.enabled !== false);
  const preferred = usable.find((m) => m.id === catalogue.default_model) || usable.find((m) => m.status === "current") || usable[0] || models[0];
  if (preferred) modelSel.value = preferred.id;
  applyModel();

  const size = () => (sizeSel.value === "custom" ? `${Number(wIn.value)}x${Number(hIn.value)}` : sizeSel.value);

  return {
    element,
    model,
    n: () => Math.max(1, Number(nIn.value) || 1),
    /** The chosen WxH, or null for `auto` (the model picks; placeholders then guess and settle on the first preview). */
    aspect: () => {
      const s = size();
      return /^\d+x\d+$/.test(s) ? s : null;
    },
    validate: () => {
      const m = model();
      if (sizeSel.value === "custom" && m.sizes.free) {
        const msg = checkFreeSize(Number(wIn.value), Number(hIn.value), m.sizes.free);
        if (msg) return { field: "size", message: msg };
      }
      const n = Number(nIn.value);
      if (!Number.isInteger(n) || n < 1 || n > m.max_n) return { field: "n", message: `Choose 1 to ${m.max_n} images.` };
      return preview.validate(fmtSel.value);
    },
    getParams: () => {
      /** @type {GenerateBody} */
      const p = {
        model: modelSel.value,
        n: Math.max(1, Number(nIn.value) || 1),
        size: size(),
        quality: qualitySel.value,
        background: bgSel.value,
        output_format: fmtSel.value,
        moderation: modSel.value,
        partial_images: Number(partialSel.value) || 0,
      };
      if (!fComp.hidden) p.output_compression = Number(compIn.value);
      if (!fCx.hidden && cxSel.value) p.complexity = cxSel.value;
      Object.assign(p, preview.params(fmtSel.value));
      if (isEdit) {
        if (!fFid.hidden && fidSel.value) p.input_fidelity = fidSel.value;
        if (!fPreserve.hidden) p.preserve_unmasked = preserve.checked;
        if (!fFeather.hidden) p.feather = Number(featherIn.value);
      }
      return p;
    },
    setParams: (p) => {
      if (p.model && models.some((m) => m.id === p.model)) {
        modelSel.value = p.model;
        applyModel();
      }
      const m = model();
      if (typeof p.size === "string") {
        if ([...sizeSel.options].some((op) => op.value === p.size)) sizeSel.value = p.size;
        else if (m.sizes.free && /^\d+x\d+$/.test(p.size)) {
          sizeSel.value = "custom";
          const [w, hh] = p.size.split("x");
          wIn.value = w;
          hIn.value = hh;
        }
      }
      /** @param {HTMLSelectElement} sel @param {unknown} v */
      const set = (sel, v) => {
        if (v === null || v === undefined) return;
        const s = String(v);
        if ([...sel.options].some((op) => op.value === s)) sel.value = s;
      };
      set(qualitySel, p.quality);
      set(bgSel, p.background);
      set(fmtSel, p.output_format);
      set(modSel, p.moderation);
      set(cxSel, p.complexity);
      set(partialSel, p.partial_images);
      set(fidSel, p.input_fidelity);
      if (typeof p.n === "number") nIn.value = String(Math.min(m.max_n, Math.max(1, p.n)));
      if (typeof p.output_compression === "number") compIn.value = String(p.output_compression);
      preview.set(p);
      applyConstraints();
    },
    setHasMask: (hasMask) => {
      fPreserve.hidden = !hasMask;
      fFeather.hidden = !hasMask;
      if (hasMask && !preserveTouched) preserve.checked = true;
    },
  };
}
