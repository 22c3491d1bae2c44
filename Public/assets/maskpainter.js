// @ts-check
// Mask painter: paint over the base image where it should change. Exports a PNG at the base image's
// natural size with alpha: painted pixels alpha 0 (transparent = edit here), the rest alpha 255.
// Parts: masktools.js (brush, eraser, strokes), maskhistory.js (undo/redo), maskviewport.js (zoom, pan),
// maskpixels.js (pixel rules, export and import of mask files).
import { h, icon, nextId } from "./ui.js";
import { createMaskHistory } from "./maskhistory.js";
import { createMaskTools } from "./masktools.js";
import { createMaskViewport } from "./maskviewport.js";
import { exportMaskPng, hasPaint, invertPaint, loadImage, readMaskFile } from "./maskpixels.js";

/**
 * @typedef {{
 *   el: HTMLElement,
 *   setBase: (url: string | null, width?: number, height?: number) => Promise<void>,
 *   size: () => { width: number, height: number } | null,
 *   hasMask: () => boolean,
 *   version: () => number,
 *   exportMask: () => Promise<Blob | null>,
 *   loadMask: (src: string | Blob) => Promise<{ scaled: boolean }>,
 *   clear: () => void,
 *   handleKey: (ev: KeyboardEvent) => boolean,
 *   onChange: (cb: () => void) => void,
 * }} MaskPainter
 */

/** @returns {MaskPainter} */
export function createMaskPainter() {
  const paint = h("canvas", { class: "painter-mask", width: 1, height: 1 });
  const ctxOrNull = paint.getContext("2d", { willReadFrequently: true });
  if (!ctxOrNull) throw new Error("Canvas 2D is not available");
  const ctx = ctxOrNull;
  const baseImg = h("img", { class: "painter-base", alt: "Base image", draggable: false });
  const stage = h("div", { class: "painter-stage" }, baseImg, paint);
  const hintId = nextId("painter-hint");
  const viewport = h("div", {
    class: "painter-viewport", tabindex: "0", role: "application",
    "aria-label": "Mask canvas: paint where the image should change", "aria-describedby": hintId,
  }, stage);
  const empty = h("div", { class: "painter-empty" }, icon("brush"), h("p", { text: "Add a base image to paint a mask." }));
  let W = 0;
  let H = 0;
  let painted = false;
  let ver = 0;
  /** @type {(() => void)[]} */
  const listeners = [];
  const history = createMaskHistory(ctx);
  const tools = createMaskTools(viewport);
  const view = createMaskViewport(viewport, stage, () => W > 0);
  viewport.append(tools.cursor);

  const undoBtn = h("button", { type: "button", class: "btn-tool", title: "Undo (Ctrl+Z)", "aria-label": "Undo", disabled: true }, icon("undo"));
  const redoBtn = h("button", { type: "button", class: "btn-tool", title: "Redo (Ctrl+Shift+Z)", "aria-label": "Redo", disabled: true }, icon("redo"));
  const invertBtn = h("button", { type: "button", class: "btn btn-small", text: "Invert" });
  const clearBtn = h("button", { type: "button", class: "btn btn-small", text: "Clear" });
  const overlayId = nextId("overlay");
  const overlay = h("input", { type: "checkbox", id: overlayId, checked: true, name: "mask_overlay" });
  const el = painterLayout(tools, view, { undoBtn, redoBtn, invertBtn, clearBtn, overlay }, viewport, empty, hintId);

  /** Records a change of the mask layer; `scan` re-reads whether anything is painted. @param {boolean} [scan] */
  const changed = (scan = false) => {
    if (scan) painted = W > 0 && hasPaint(ctx.getImageData(0, 0, W, H).data);
    ver += 1;
    undoBtn.disabled = !history.canUndo();
    redoBtn.disabled = !history.canRedo();
    for (const l of listeners) l();
  };
  bindStrokes(viewport, ctx, { view, tools, history, active: () => W > 0 }, (erased) => {
    if (!erased) painted = true;
    changed(erased);
  });
  viewport.addEventListener("contextmenu", (ev) => ev.preventDefault());

  const doUndo = () => history.undo() && changed(true);
  const doRedo = () => history.redo() && changed(true);
  const doInvert = () => {
    if (!W) return;
    history.snapshot();
    const img = ctx.getImageData(0, 0, W, H);
    invertPaint(img);
    ctx.putImageData(img, 0, 0);
    changed(true);
  };
  const doClear = () => {
    if (!W || !painted) return;
    history.snapshot();
    ctx.clearRect(0, 0, W, H);
    painted = false;
    changed();
  };
  undoBtn.addEventListener("click", doUndo);
  redoBtn.addEventListener("click", doRedo);
  invertBtn.addEventListener("click", doInvert);
  clearBtn.addEventListener("click", doClear);
  overlay.addEventListener("change", () => paint.classList.toggle("is-hidden", !overlay.checked));

  const setEnabled = () => {
    const on = W > 0;
    el.classList.toggle("is-empty", !on);
    const controls = [tools.brushBtn, tools.eraserBtn, invertBtn, clearBtn, view.zoomIn, view.zoomOut, view.zoomFit, tools.brush, overlay];
    for (const b of controls) b.disabled = !on;
    viewport.hidden = !on;
    empty.hidden = on;
    if (on) view.apply();
  };
  setEnabled();

  return {
    el,
    handleKey: (ev) => W > 0 && painterKey(ev, tools, view, doUndo, doRedo),
    size: () => (W ? { width: W, height: H } : null),
    hasMask: () => painted,
    version: () => ver,
    onChange: (cb) => void listeners.push(cb),
    setBase: async (url, width, height) => {
      const img = url ? await loadImage(url) : null;
      W = img ? width || img.naturalWidth : 0;
      H = img ? height || img.naturalHeight : 0;
      if (url && img) {
        baseImg.src = url;
        paint.width = W;
        paint.height = H;
        viewport.style.aspectRatio = `${W} / ${H}`;
        viewport.style.width = `min(100%, calc(var(--painter-max-h) * ${W} / ${H}))`;
        view.reset();
      } else {
        baseImg.removeAttribute("src");
      }
      painted = false;
      history.reset();
      setEnabled();
      changed();
    },
    exportMask: async () => (W && painted ? exportMaskPng(ctx) : null),
    loadMask: async (src) => {
      if (!W) throw new Error("Add a base image first.");
      const { pixels, scaled } = await readMaskFile(ctx, src);
      history.snapshot();
      ctx.putImageData(pixels, 0, 0);
      changed(true);
      return { scaled };
    },
    clear: doClear,
  };
}

/**
 * The painter's keyboard shortcuts; true when the key was used.
 * @param {KeyboardEvent} ev
 * @param {import("./masktools.js").MaskTools} tools
 * @param {import("./maskviewport.js").MaskViewport} view
 * @param {() => void} undo
 * @param {() => void} redo
 */
function painterKey(ev, tools, view, undo, redo) {
  const mod = ev.ctrlKey || ev.metaKey;
  const key = ev.key.toLowerCase();
  if (mod && (key === "z" || key === "y")) {
    if (key === "z" && !ev.shiftKey) undo();
    else redo();
    return true;
  }
  if (mod || ev.altKey) return false;
  if (ev.key === "[") tools.resizeBrush(-4);
  else if (ev.key === "]") tools.resizeBrush(4);
  else if (key === "e") tools.setEraser(true);
  else if (key === "b") tools.setEraser(false);
  else if (ev.key === "+" || ev.key === "=") view.zoomBy(1.5);
  else if (ev.key === "-") view.zoomBy(1 / 1.5);
  else if (ev.key === "0") view.fit();
  else return false;
  return true;
}

/**
 * The painter's toolbar, frame and hint.
 * @param {import("./masktools.js").MaskTools} tools
 * @param {import("./maskviewport.js").MaskViewport} view
 * @param {{ undoBtn: HTMLElement, redoBtn: HTMLElement, invertBtn: HTMLElement, clearBtn: HTMLElement, overlay: HTMLInputElement }} edits
 * @param {HTMLElement} viewport
 * @param {HTMLElement} empty
 * @param {string} hintId
 */
function painterLayout(tools, view, edits, viewport, empty, hintId) {
  const toolbar = h("div", { class: "painter-toolbar", role: "toolbar", "aria-label": "Mask tools" },
    h("div", { class: "tool-group" }, tools.brushBtn, tools.eraserBtn),
    tools.brushGroup,
    h("div", { class: "tool-group" }, edits.undoBtn, edits.redoBtn, edits.invertBtn, edits.clearBtn),
    h("div", { class: "tool-group" }, view.zoomOut, view.zoomLabel, view.zoomIn, view.zoomFit),
    h("div", { class: "tool-group tool-check" }, edits.overlay, h("label", { for: edits.overlay.id, text: "Overlay" })));
  const hint = h("p", { class: "hint", id: hintId },
    "Painted areas will be edited. ", h("kbd", { text: "[" }), " ", h("kbd", { text: "]" }), " brush size · ",
    h("kbd", { text: "Space" }), "+drag or middle-drag to pan · ", h("kbd", { text: "Ctrl" }), "+wheel to zoom.");
  return h("div", { class: "painter" }, toolbar, h("div", { class: "painter-frame" }, viewport, empty), hint);
}

/**
 * Pointer input of the viewport: pans through the viewport part, otherwise draws a stroke with the current tool
 * (one undo step per stroke).
 * @param {HTMLElement} viewport
 * @param {CanvasRenderingContext2D} ctx the mask layer
 * @param {{ view: import("./maskviewport.js").MaskViewport, tools: import("./masktools.js").MaskTools,
 *   history: import("./maskhistory.js").MaskHistory, active: () => boolean }} parts
 * @param {(erased: boolean) => void} onStroke called when a stroke ends
 */
function bindStrokes(viewport, ctx, parts, onStroke) {
  const { view, tools, history, active } = parts;
  /** @param {number} clientX @param {number} clientY */
  const toImage = (clientX, clientY) => {
    const r = ctx.canvas.getBoundingClientRect();
    const { width, height } = ctx.canvas;
    return { x: ((clientX - r.left) * width) / r.width, y: ((clientY - r.top) * height) / r.height, scale: width / r.width };
  };
  viewport.addEventListener("pointerdown", (ev) => {
    if (!active()) return;
    viewport.focus({ preventScroll: true });
    if (view.beginPan(ev) || ev.button !== 0) return;
    ev.preventDefault();
    viewport.setPointerCapture(ev.pointerId);
    history.snapshot();
    tools.begin(ctx, toImage(ev.clientX, ev.clientY));
  });
  viewport.addEventListener("pointermove", (ev) => {
    tools.moveCursor(ev, !active() || view.panning());
    if (view.movePan(ev)) return;
    const events = typeof ev.getCoalescedEvents === "function" ? ev.getCoalescedEvents() : [];
    for (const e of events.length ? events : [ev]) if (!tools.extend(ctx, toImage(e.clientX, e.clientY))) return;
  });
  /** @param {PointerEvent} ev */
  const onUp = (ev) => {
    if (viewport.hasPointerCapture(ev.pointerId)) viewport.releasePointerCapture(ev.pointerId);
    if (view.endPan()) return;
    const stroke = tools.end(ctx);
    if (stroke) onStroke(stroke.erased);
  };
  viewport.addEventListener("pointerup", onUp);
  viewport.addEventListener("pointercancel", onUp);
}
