// @ts-check
// Edit / inpaint screen: reference tray (drop, paste, pick, reorder), mask painter over the base image,
// mask upload, auto-mask, options, multipart submit to POST /v1/edit, before/after results.
import { api, ApiError, imageUrl, thumbnailUrl } from "./api.js";
import { loadModels, handoff, onModelsChanged, refreshModels } from "./state.js";
import { createOptions } from "./options.js";
import { createMaskPainter } from "./maskpainter.js";
import { createMarkupPainter } from "./markuppainter.js";
import { outputsOf } from "./jobview.js";
import { createJobCard } from "./jobcard.js";
import { watchJob } from "./events.js";
import { autosize } from "./generate.js";
import {
  h, icon, nextId, toast, announce, clearFieldErrors, showFieldError, reportError, relativeTime,
} from "./ui.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */
/** @typedef {import("./options.js").OptionsForm} OptionsForm */
/** @typedef {import("./maskpainter.js").MaskPainter} MaskPainter */
/** @typedef {import("./markuppainter.js").MarkupPainter} MarkupPainter */
/**
 * @typedef {{ key: string, kind: "file", file: File, url: string, width: number, height: number, name: string }
 *         | { key: string, kind: "stored", image: ImageInfo, url: string, width: number, height: number, name: string }} TrayItem
 */

const ACCEPT = ["image/png", "image/jpeg", "image/webp"];
const MAX_BYTES = 50 * 1024 * 1024;

/** @type {TrayItem[]} */
let tray = [];
let maxImages = 16;
/** @type {HTMLElement} */
let root;
/** @type {HTMLOListElement} */
let trayList;
/** @type {HTMLElement} */
let trayCount;
/** @type {HTMLElement} */
let dropZone;
/** @type {MaskPainter} */
let painter;
/** @type {MarkupPainter} */
let markup;
/** Mask and markup cannot be combined: the mode says which one guides the edit. */
let mode = /** @type {"mask" | "markup"} */ ("mask");
/** @type {OptionsForm} */
let options;
/** @type {HTMLTextAreaElement} */
let prompt;
/** @type {HTMLFormElement} */
let form;
/** @type {HTMLButtonElement} */
let submitBtn;
/** @type {HTMLElement} */
let results;
/** @type {HTMLElement} */
let maskStatus;
/** @type {string | null} */
let baseKey = null;
/** Auto-mask result that can be sent as mask_id while the painted mask is unchanged. */
let autoMask = /** @type {{ id: string, version: number } | null} */ (null);
let active = false;
let keySeq = 0;

/** The reference tray: file picker, history picker, drop zone and the list of images (the first is the base). */
function createTrayCard() {
  const fileId = nextId("files");
  const fileInput = h("input", { type: "file", id: fileId, class: "visually-hidden", multiple: true, accept: ACCEPT.join(","), name: "image_files" });
  fileInput.addEventListener("change", () => {
    if (fileInput.files) void addFiles([...fileInput.files]);
    fileInput.value = "";
  });
  const pickBtn = h("button", { type: "button", class: "btn btn-small" }, icon("image"), "From history");
  pickBtn.addEventListener("click", () => void pickFromHistory());
  trayCount = h("span", { class: "tray-count" });
  trayList = h("ol", { class: "tray", "aria-label": "Reference images (the first is the base)" });
  dropZone = h("div", { class: "dropzone" },
    icon("plus"),
    h("p", {}, h("strong", { text: "Drop images here" }), ", paste with ", h("kbd", { text: "Ctrl" }), "+", h("kbd", { text: "V" }), ", or ",
      h("label", { for: fileId, class: "link", text: "choose files" }), "."),
    h("p", { class: "hint", text: `PNG, JPEG or WebP · up to ${maxImages} images · the first one is the base.` }));
  const trayCard = h("section", { class: "card tray-card", "aria-labelledby": `${fileId}-h` },
    h("div", { class: "card-head" },
      h("h2", { id: `${fileId}-h`, text: "References" }), trayCount,
      h("div", { class: "card-head-actions" },
        h("label", { for: fileId, class: "btn btn-small", tabindex: "0", role: "button", onkeydown: labelKey }, icon("plus"), "Add images"),
        pickBtn)),
    fileInput, trayList, dropZone,
    h("p", { class: "field-error", hidden: true, "data-error-for": "image[0]", role: "status" }));
  setupDrop(trayCard);
  return trayCard;
}

/** @param {HTMLElement} panel */
export async function mount(panel) {
  panel.replaceChildren(h("div", { class: "screen" }, h("div", { class: "card skeleton-block" })));
  const catalogue = await loadModels();
  root = panel;
  const editModels = catalogue.data.filter((m) => !m.endpoints || m.endpoints.includes("edits"));
  maxImages = Math.max(1, ...editModels.map((m) => m.max_input_images || 16));

  const trayCard = createTrayCard();

  // Mask
  painter = createMaskPainter();
  painter.onChange(() => {
    options.setHasMask(mode === "mask" && painter.hasMask());
    maskStatus.textContent = painter.hasMask() ? "Mask ready — painted areas will change." : "No mask: the whole image may change.";
  });
  const maskFileId = nextId("maskfile");
  const maskInput = h("input", { type: "file", id: maskFileId, name: "mask", accept: "image/png", class: "visually-hidden" });
  maskInput.addEventListener("change", async () => {
    const f = maskInput.files && maskInput.files[0];
    maskInput.value = "";
    if (!f) return;
    try {
      const { scaled } = await painter.loadMask(f);
      autoMask = null;
      toast(scaled ? "Mask loaded and scaled to the base image's size." : "Mask loaded.", "info");
    } catch (e) {
      showFieldError(root, "mask", e instanceof Error ? e.message : String(e));
    }
  });
  const subjectId = nextId("subject");
  const subject = h("input", { type: "text", id: subjectId, name: "subject", placeholder: "e.g. the red car", autocomplete: "off" });
  const autoBtn = h("button", { type: "button", class: "btn btn-small" }, icon("sparkle"), "Auto-mask");
  autoBtn.addEventListener("click", () => void runAutoMask(subject, autoBtn));
  subject.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      void runAutoMask(subject, autoBtn);
    }
  });
  maskStatus = h("p", { class: "hint", "aria-live": "polite", text: "No mask: the whole image may change." });
  markup = createMarkupPainter();
  const maskOnly = [
    h("label", { for: maskFileId, class: "btn btn-small", tabindex: "0", role: "button", onkeydown: labelKey }, "Upload mask…"),
    painter.el,
    h("div", { class: "automask field" },
      h("label", { for: subjectId, text: "Auto-mask a subject" }),
      h("div", { class: "inline" }, subject, autoBtn),
      h("p", { class: "field-error", hidden: true, "data-error-for": "subject", role: "status" })),
    maskStatus];
  const modes = createModeSwitch(maskOnly);
  const maskCard = h("section", { class: "card mask-card", "aria-labelledby": `${maskFileId}-h` },
    h("div", { class: "card-head" }, h("h2", { id: `${maskFileId}-h`, text: "Guide" }),
      h("div", { class: "card-head-actions" }, maskOnly[0])),
    modes.el,
    maskInput,
    h("p", { class: "field-error", hidden: true, "data-error-for": "mask", role: "status" }),
    h("p", { class: "field-error", hidden: true, "data-error-for": "markup", role: "status" }),
    ...maskOnly.slice(1), markup.el);

  // Prompt + options
  const promptId = nextId("eprompt");
  prompt = h("textarea", { id: promptId, name: "prompt", rows: 3, class: "prompt", maxLength: 32000, placeholder: "Replace the sky with a warm sunset…" });
  autosize(prompt);
  options = createOptions({ catalogue, endpoint: "edits", onChange: () => modes.sync() });
  onModelsChanged((list) => {
    const note = options.setCatalogue(list);
    if (note) toast(note, "info");
    modes.sync();
  });
  options.setHasMask(false);
  modes.sync();
  submitBtn = h("button", { type: "submit", class: "btn btn-primary btn-large" }, icon("edit"), h("span", { text: "Apply edit" }));
  form = h("form", { class: "card composer edit-form", novalidate: true, "aria-label": "Edit instructions" },
    h("div", { class: "field field-prompt" },
      h("label", { for: promptId, class: "label-large", text: "What should change?" }),
      prompt,
      h("p", { class: "field-error", hidden: true, "data-error-for": "prompt", role: "status" }),
      h("p", { class: "hint" }, h("kbd", { text: "Ctrl" }), "+", h("kbd", { text: "Enter" }), " to submit.")),
    options.element,
    h("div", { class: "composer-foot" }, h("p", { class: "estimate hint", text: "Edits are billed for input and output image tokens." }), submitBtn));
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

  results = h("section", { class: "results", "aria-label": "Edit results" });
  panel.replaceChildren(h("div", { class: "screen" },
    h("h1", { class: "visually-hidden", text: "Edit" }),
    h("div", { class: "edit-layout" },
      h("div", { class: "edit-main" }, trayCard, maskCard),
      h("div", { class: "edit-side" }, form)),
    results));

  document.addEventListener("paste", onPaste);
  document.addEventListener("keydown", onKey);
  renderTray();
}

/**
 * The Mask / Markup switch: one guides the edit, never both. Markup is offered when the model supports it.
 * @param {HTMLElement[]} maskOnly
 */
function createModeSwitch(maskOnly) {
  const name = nextId("guide");
  const radio = (/** @type {"mask" | "markup"} */ value, /** @type {string} */ text) => {
    const input = h("input", { type: "radio", name, value, id: `${name}-${value}`, checked: value === mode });
    input.addEventListener("change", () => {
      mode = value;
      apply();
    });
    return { input, label: h("label", { class: "mode-option", for: input.id }, input, text) };
  };
  const maskRadio = radio("mask", "Mask");
  const markupRadio = radio("markup", "Markup");
  const hint = h("p", { class: "hint" });
  const apply = () => {
    for (const el of maskOnly) el.hidden = mode !== "mask";
    markup.el.hidden = mode !== "markup";
    options.setHasMask(mode === "mask" && painter.hasMask());
  };
  const sync = () => {
    const supported = !!options.model().supports_markup;
    markupRadio.input.disabled = !supported;
    hint.textContent = supported
      ? "Mask: paint where the image may change. Markup: draw arrows, circles and notes to guide the edit."
      : `${options.model().id} does not take markup; choose a GPT Image 2.5 or newer model to use it.`;
    if (!supported && mode === "markup") {
      mode = "mask";
      maskRadio.input.checked = true;
    }
    apply();
  };
  const el = h("div", { class: "mode-switch" },
    h("div", { role: "radiogroup", "aria-label": "Guide the edit with", class: "inline" }, maskRadio.label, markupRadio.label), hint);
  return { el, sync };
}

/**
 * Lets Enter/Space activate a <label role="button"> that opens a file picker.
 * @param {KeyboardEvent} ev
 */
function labelKey(ev) {
  if (ev.key === "Enter" || ev.key === " ") {
    ev.preventDefault();
    /** @type {HTMLElement} */ (ev.currentTarget).click();
  }
}

/** @param {KeyboardEvent} ev */
function onKey(ev) {
  if (!active) return;
  const t = /** @type {HTMLElement | null} */ (ev.target);
  const typing = t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && !["range", "checkbox", "radio", "button", "file"].includes(/** @type {HTMLInputElement} */ (t).type)) || t.tagName === "SELECT" || t.isContentEditable);
  if (typing) return;
  if (document.querySelector("dialog[open]")) return;
  if (painter.handleKey(ev)) ev.preventDefault();
}

/** @param {ClipboardEvent} ev */
function onPaste(ev) {
  if (!active || !ev.clipboardData) return;
  const files = [...ev.clipboardData.files].filter((f) => f.type.startsWith("image/"));
  if (!files.length) return;
  ev.preventDefault();
  void addFiles(files);
}

/** @param {HTMLElement} zone */
function setupDrop(zone) {
  /** @param {DragEvent} ev */
  const hasFiles = (ev) => !!ev.dataTransfer && [...ev.dataTransfer.types].includes("Files");
  zone.addEventListener("dragover", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    zone.classList.add("is-dragover");
  });
  zone.addEventListener("dragleave", (ev) => {
    if (ev.target === zone) zone.classList.remove("is-dragover");
  });
  zone.addEventListener("drop", (ev) => {
    zone.classList.remove("is-dragover");
    if (!hasFiles(ev) || !ev.dataTransfer) return;
    ev.preventDefault();
    void addFiles([...ev.dataTransfer.files]);
  });
}

/** @param {string} url @returns {Promise<{ width: number, height: number }>} */
function measure(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => reject(new Error("not a readable image"));
    img.src = url;
  });
}

/** @param {File[]} files */
async function addFiles(files) {
  for (const file of files) {
    if (tray.length >= maxImages) {
      toast(`At most ${maxImages} reference images.`);
      break;
    }
    if (!ACCEPT.includes(file.type)) {
      toast(`${file.name}: use PNG, JPEG or WebP.`);
      continue;
    }
    if (file.size >= MAX_BYTES) {
      toast(`${file.name}: images must be smaller than 50 MB.`);
      continue;
    }
    const url = URL.createObjectURL(file);
    try {
      const { width, height } = await measure(url);
      tray.push({ key: `k${++keySeq}`, kind: "file", file, url, width, height, name: file.name });
    } catch {
      URL.revokeObjectURL(url);
      toast(`${file.name} could not be read as an image.`);
    }
  }
  renderTray();
}

/** @param {ImageInfo} image @param {boolean} asBase */
function addStored(image, asBase) {
  if (tray.some((t) => t.kind === "stored" && t.image.id === image.id)) {
    if (asBase) move(tray.findIndex((t) => t.kind === "stored" && t.image.id === image.id), 0);
    return;
  }
  if (tray.length >= maxImages) {
    toast(`At most ${maxImages} reference images.`);
    return;
  }
  /** @type {TrayItem} */
  const item = {
    key: `k${++keySeq}`, kind: "stored", image, url: image.url || imageUrl(image.id),
    width: image.width, height: image.height, name: `Image ${image.id.slice(0, 8)}`,
  };
  if (asBase) tray.unshift(item);
  else tray.push(item);
}

/** @param {number} from @param {number} to */
function move(from, to) {
  if (from < 0 || to < 0 || from >= tray.length || to >= tray.length || from === to) return;
  const [it] = tray.splice(from, 1);
  tray.splice(to, 0, it);
  renderTray();
  announce(`Moved ${it.name} to position ${to + 1}${to === 0 ? " (base)" : ""}`);
}

/** @type {number} */
let dragFrom = -1;

function renderTray() {
  trayCount.textContent = `${tray.length} / ${maxImages}`;
  dropZone.classList.toggle("compact", tray.length > 0);
  trayList.hidden = tray.length === 0;
  trayList.replaceChildren(...tray.map((it, i) => {
    const left = h("button", { type: "button", class: "btn-icon btn-icon-small", "aria-label": `Move ${it.name} earlier`, title: "Move earlier", disabled: i === 0 }, icon("left"));
    const right = h("button", { type: "button", class: "btn-icon btn-icon-small", "aria-label": `Move ${it.name} later`, title: "Move later", disabled: i === tray.length - 1 }, icon("right"));
    const remove = h("button", { type: "button", class: "btn-icon btn-icon-small", "aria-label": `Remove ${it.name}`, title: "Remove" }, icon("close"));
    left.addEventListener("click", () => {
      move(i, i - 1);
      focusTrayButton(i - 1, "earlier");
    });
    right.addEventListener("click", () => {
      move(i, i + 1);
      focusTrayButton(i + 1, "later");
    });
    remove.addEventListener("click", () => {
      const [gone] = tray.splice(i, 1);
      if (gone.kind === "file") URL.revokeObjectURL(gone.url);
      renderTray();
    });
    const li = h("li", { class: "tray-item", draggable: true, tabindex: "-1", dataset: { index: String(i), field: `image[${i}]` } },
      h("div", { class: "tray-thumb" },
        h("img", { src: it.kind === "stored" ? thumbnailUrl(it.image.id) : it.url, alt: it.name, draggable: false }),
        i === 0 ? h("span", { class: "badge", text: "Base" }) : h("span", { class: "badge badge-muted", text: String(i + 1) })),
      h("div", { class: "tray-meta" }, h("span", { class: "tray-dims", text: `${it.width}×${it.height}` })),
      h("div", { class: "tray-controls" }, left, right, remove),
      h("p", { class: "field-error", hidden: true, "data-error-for": `image[${i}]`, role: "status" }));
    li.addEventListener("dragstart", (ev) => {
      dragFrom = i;
      li.classList.add("is-dragging");
      ev.dataTransfer?.setData("text/x-atelier-index", String(i));
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
    });
    li.addEventListener("dragend", () => li.classList.remove("is-dragging"));
    li.addEventListener("dragover", (ev) => {
      if (dragFrom < 0) return;
      ev.preventDefault();
      li.classList.add("is-drop-target");
    });
    li.addEventListener("dragleave", () => li.classList.remove("is-drop-target"));
    li.addEventListener("drop", (ev) => {
      if (dragFrom < 0) return;
      ev.preventDefault();
      ev.stopPropagation();
      li.classList.remove("is-drop-target");
      const from = dragFrom;
      dragFrom = -1;
      move(from, i);
    });
    return li;
  }));
  void syncBase();
}

/** @param {number} index @param {"earlier" | "later"} which */
function focusTrayButton(index, which) {
  const li = trayList.children[index];
  if (!li) return;
  const btn = /** @type {HTMLButtonElement | null} */ (li.querySelector(`[aria-label^="Move"][aria-label$="${which}"]`));
  if (btn && !btn.disabled) btn.focus();
  else /** @type {HTMLElement} */ (li.querySelector("button:not([disabled])"))?.focus();
}

async function syncBase() {
  const base = tray[0] || null;
  const key = base ? base.key : null;
  if (key === baseKey) return;
  const hadMask = painter.hasMask();
  baseKey = key;
  markup.setBase(base ? base.url : null, base?.width, base?.height);
  autoMask = null;
  try {
    await painter.setBase(base ? base.url : null, base?.width, base?.height);
    if (hadMask) toast("The base image changed, so the mask was cleared.", "info");
  } catch (e) {
    reportError(e, root, "Base image");
  }
}

/** @param {HTMLInputElement} subject @param {HTMLButtonElement} btn */
async function runAutoMask(subject, btn) {
  clearFieldErrors(root);
  const base = tray[0];
  if (!base) {
    showFieldError(root, "image[0]", "Add a base image first.");
    return;
  }
  const text = subject.value.trim();
  if (!text) {
    showFieldError(root, "subject", "Describe what to mask, e.g. “the dog”.");
    return;
  }
  const fd = new FormData();
  if (base.kind === "stored") fd.append("image_id", base.image.id);
  else fd.append("image", base.file, base.file.name);
  fd.append("subject", text);
  btn.disabled = true;
  btn.classList.add("is-loading");
  maskStatus.textContent = "Finding the subject…";
  const forKey = base.key;
  try {
    const job = await api.autoMask(fd);
    await new Promise((resolve) => {
      const w = watchJob(job.id, {
        onUpdate: async (j) => {
          if (j.status === "failed" || j.status === "canceled") {
            w.close();
            maskStatus.textContent = "Auto-mask did not work.";
            toast(`Auto-mask ${j.status}: ${j.error?.message || "no mask was produced"}`);
            resolve(null);
          } else if (j.status === "succeeded") {
            w.close();
            const img = (j.images || []).find((i) => i.role === "mask") || outputsOf(j)[0];
            if (img && baseKey === forKey) {
              try {
                // Read by script (served by Atelier even with S3_PRESIGN), so the canvas is never tainted.
                const res = await fetch(img.url);
                if (!res.ok) throw new Error(`Could not read the mask (${res.status}).`);
                await painter.loadMask(await res.blob());
                autoMask = { id: img.id, version: painter.version() };
                announce("Auto-mask applied");
              } catch (e) {
                reportError(e, root, "Auto-mask");
              }
            }
            resolve(null);
          }
        },
      });
    });
  } catch (e) {
    reportError(e, root, "Auto-mask failed");
    maskStatus.textContent = "Auto-mask did not work.";
  } finally {
    btn.disabled = false;
    btn.classList.remove("is-loading");
  }
}

let busy = false;
async function submit() {
  if (busy) return;
  clearFieldErrors(root);
  const text = prompt.value.trim();
  let bad = false;
  if (!tray.length) {
    showFieldError(root, "image[0]", "Add at least one image to edit.", false);
    bad = true;
  }
  if (!text) {
    showFieldError(root, "prompt", "Describe the change.");
    bad = true;
  }
  const invalid = options.validate();
  if (invalid) {
    showFieldError(root, invalid.field, invalid.message);
    bad = true;
  }
  if (bad) return;
  busy = true;
  submitBtn.disabled = true;
  submitBtn.classList.add("is-loading");
  try {
    const fd = new FormData();
    fd.append("prompt", text);
    // The server takes uploaded parts first, then image_id references. When a stored image comes
    // before an uploaded one, upload the stored ones too so the tray order (and the base) is kept.
    const mixed = tray.some((it, i) => it.kind === "stored" && tray.slice(i + 1).some((x) => x.kind === "file"));
    for (const it of tray) {
      if (it.kind === "file") fd.append("image[]", it.file, it.file.name);
      else if (mixed) {
        const res = await fetch(it.url);
        if (!res.ok) throw new Error(`Could not read ${it.name} (${res.status}).`);
        const blob = await res.blob();
        fd.append("image[]", blob, `${it.image.id}.${it.image.format === "jpeg" ? "jpg" : it.image.format || "png"}`);
      } else fd.append("image_id", it.image.id);
    }
    if (mode === "markup") {
      const blob = await markup.exportMarkup();
      if (blob) fd.append("markup", blob, "markup.png");
    } else if (painter.hasMask()) {
      if (autoMask && autoMask.version === painter.version()) fd.append("mask_id", autoMask.id);
      else {
        const blob = await painter.exportMask();
        if (blob) fd.append("mask", blob, "mask.png");
      }
    }
    for (const [k, v] of Object.entries(options.getParams())) {
      if (v !== null && typeof v === "object") {
        // The svg object in the SDK's multipart names: svg[model], svg[reasoning][effort].
        fd.append(`${k}[model]`, v.model);
        if (v.reasoning) fd.append(`${k}[reasoning][effort]`, v.reasoning.effort);
      } else if (v !== null && v !== undefined && v !== "") fd.append(k, String(v));
    }
    const job = await api.edit(fd);
    const base = tray[0];
    const card = createJobCard(job, {
      // size=auto keeps the base image's shape; an explicit size wins.
      aspect: options.aspect() ?? (base ? `${base.width}x${base.height}` : "1024x1024"), count: options.n(),
      baseUrl: base ? base.url : null,
      onRerun: () => void submit(),
    });
    results.prepend(card.el);
    card.el.scrollIntoView({ behavior: "smooth", block: "nearest" });
    handoff.historyDirty = true;
  } catch (e) {
    reportError(e, root, "Edit failed");
    // The model shut down while this page was open: the picker switches to its replacement (onModelsChanged).
    if (e instanceof ApiError && e.code === "model_retired") void refreshModels().catch(() => {});
  } finally {
    busy = false;
    submitBtn.disabled = false;
    submitBtn.classList.remove("is-loading");
  }
}

/** Dialog listing recent outputs to add to the tray. */
async function pickFromHistory() {
  const titleId = nextId("pick");
  const grid = h("div", { class: "pick-grid", role: "group", "aria-labelledby": titleId },
    ...Array.from({ length: 6 }, () => h("div", { class: "pick-item skeleton", "aria-hidden": "true" })));
  const addBtn = h("button", { type: "submit", value: "ok", class: "btn btn-primary", text: "Add selected", disabled: true });
  const dlg = h("dialog", { class: "dialog dialog-wide", "aria-labelledby": titleId },
    h("form", { method: "dialog" },
      h("h2", { id: titleId, text: "Pick from history" }), grid,
      h("div", { class: "dialog-actions" }, h("button", { type: "submit", value: "cancel", class: "btn", text: "Cancel" }), addBtn)));
  document.body.append(dlg);
  /** @type {Map<string, ImageInfo>} */
  const chosen = new Map();
  dlg.addEventListener("close", () => {
    if (dlg.returnValue === "ok") {
      for (const img of chosen.values()) addStored(img, false);
      renderTray();
    }
    dlg.remove();
  });
  dlg.showModal();
  try {
    const page = await api.jobs({ limit: 40, status: "succeeded" });
    const imgs = page.data.flatMap((j) => outputsOf(j).map((img) => ({ img, job: j })));
    if (!imgs.length) {
      grid.replaceChildren(h("p", { class: "empty-inline", text: "No finished images yet." }));
      return;
    }
    grid.replaceChildren(...imgs.map(({ img, job }) => {
      const b = h("button", { type: "button", class: "pick-item", "aria-pressed": "false", "aria-label": `${job.params.prompt || "Image"} (${relativeTime(job.created_at)})` },
        h("img", { src: img.thumbnail_url || thumbnailUrl(img.id), alt: "", loading: "lazy" }),
        h("span", { class: "pick-check", "aria-hidden": "true" }, icon("check")));
      b.addEventListener("click", () => {
        const on = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", String(on));
        if (on) chosen.set(img.id, img);
        else chosen.delete(img.id);
        addBtn.disabled = chosen.size === 0;
        addBtn.textContent = chosen.size ? `Add ${chosen.size}` : "Add selected";
      });
      return b;
    }));
  } catch (e) {
    grid.replaceChildren(h("p", { class: "empty-inline", text: "Could not load history." }));
    reportError(e, dlg);
  }
}

/** @param {string} _arg @param {URLSearchParams} query */
export function show(_arg, query) {
  active = true;
  const ids = query.getAll("image_id");
  if (handoff.editModel && options) {
    options.setParams({ model: handoff.editModel });
    handoff.editModel = null;
  }
  if (handoff.editImages.length || ids.length) {
    const imgs = handoff.editImages;
    handoff.editImages = [];
    for (const img of [...imgs].reverse()) addStored(img, true);
    for (const id of ids.reverse()) {
      if (!tray.some((t) => t.kind === "stored" && t.image.id === id)) {
        // Only the id is known: measure it first.
        void measure(imageUrl(id)).then(({ width, height }) => {
          addStored({ id, url: imageUrl(id), thumbnail_url: thumbnailUrl(id), role: "output", width, height, format: "png", bytes: 0, index: 0 }, true);
          renderTray();
        }).catch(() => toast("That image could not be loaded."));
      }
    }
    if (ids.length) history.replaceState(null, "", "#/edit");
    renderTray();
    if (imgs.length) toast("Image added as the base. Paint a mask or describe the change.", "info");
  }
}

export function hide() {
  active = false;
}
