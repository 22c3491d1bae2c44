// @ts-check
// Mask painter: paint over the base image where it should change. Exports a PNG at the base image's
// natural size with alpha: painted pixels alpha 0 (transparent = edit here), the rest alpha 255.
import { h, icon, nextId } from "./ui.js";

const MAX_UNDO = 24;
const MIN_ZOOM = 1;
const MAX_ZOOM = 8;

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

/** @param {string} src @returns {Promise<HTMLImageElement>} */
function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("The image could not be loaded."));
    img.src = src;
  });
}

/** @returns {MaskPainter} */
export function createMaskPainter() {
  const paint = h("canvas", { class: "painter-mask", width: 1, height: 1 });
  const ctxOrNull = paint.getContext("2d", { willReadFrequently: true });
  if (!ctxOrNull) throw new Error("Canvas 2D is not available");
  const ctx = ctxOrNull;
  const baseImg = h("img", { class: "painter-base", alt: "Base image", draggable: false });
  const stage = h("div", { class: "painter-stage" }, baseImg, paint);
  const cursor = h("div", { class: "painter-cursor", hidden: true, "aria-hidden": "true" });
  const hintId = nextId("painter-hint");
  const viewport = h("div", {
    class: "painter-viewport", tabindex: "0", role: "application",
    "aria-label": "Mask canvas: paint where the image should change", "aria-describedby": hintId,
  }, stage, cursor);
  const empty = h("div", { class: "painter-empty" }, icon("brush"), h("p", { text: "Add a base image to paint a mask." }));

  // Toolbar
  const sizeId = nextId("brush");
  const brush = h("input", { type: "range", id: sizeId, min: "4", max: "160", step: "1", value: "40", name: "brush_size" });
  const brushOut = h("output", { class: "range-value", for: sizeId, text: "40 px" });
  const brushBtn = h("button", { type: "button", class: "btn-tool", "aria-pressed": "true", title: "Brush (B)", "aria-label": "Brush" }, icon("brush"));
  const eraserBtn = h("button", { type: "button", class: "btn-tool", "aria-pressed": "false", title: "Eraser (E)", "aria-label": "Eraser" }, icon("eraser"));
  const undoBtn = h("button", { type: "button", class: "btn-tool", title: "Undo (Ctrl+Z)", "aria-label": "Undo", disabled: true }, icon("undo"));
  const redoBtn = h("button", { type: "button", class: "btn-tool", title: "Redo (Ctrl+Shift+Z)", "aria-label": "Redo", disabled: true }, icon("redo"));
  const invertBtn = h("button", { type: "button", class: "btn btn-small", text: "Invert" });
  const clearBtn = h("button", { type: "button", class: "btn btn-small", text: "Clear" });
  const zoomOut = h("button", { type: "button", class: "btn-tool", "aria-label": "Zoom out", title: "Zoom out (−)" }, icon("minus"));
  const zoomIn = h("button", { type: "button", class: "btn-tool", "aria-label": "Zoom in", title: "Zoom in (+)" }, icon("plus"));
  const zoomFit = h("button", { type: "button", class: "btn-tool", "aria-label": "Fit to view", title: "Fit (0)" }, icon("fit"));
  const zoomLabel = h("span", { class: "zoom-label", "aria-live": "polite", text: "100%" });
  const overlayId = nextId("overlay");
  const overlay = h("input", { type: "checkbox", id: overlayId, checked: true, name: "mask_overlay" });

  const toolbar = h("div", { class: "painter-toolbar", role: "toolbar", "aria-label": "Mask tools" },
    h("div", { class: "tool-group" }, brushBtn, eraserBtn),
    h("div", { class: "tool-group tool-brush" }, h("label", { for: sizeId, text: "Brush" }), brush, brushOut),
    h("div", { class: "tool-group" }, undoBtn, redoBtn, invertBtn, clearBtn),
    h("div", { class: "tool-group" }, zoomOut, zoomLabel, zoomIn, zoomFit),
    h("div", { class: "tool-group tool-check" }, overlay, h("label", { for: overlayId, text: "Overlay" })));
  const hint = h("p", { class: "hint", id: hintId },
    "Painted areas will be edited. ", h("kbd", { text: "[" }), " ", h("kbd", { text: "]" }), " brush size · ",
    h("kbd", { text: "Space" }), "+drag or middle-drag to pan · ", h("kbd", { text: "Ctrl" }), "+wheel to zoom.");
  const el = h("div", { class: "painter" }, toolbar, h("div", { class: "painter-frame" }, viewport, empty), hint);

  let W = 0;
  let H = 0;
  let zoom = 1;
  let tx = 0;
  let ty = 0;
  let erasing = false;
  let painted = false;
  let ver = 0;
  /** @type {ImageData[]} */
  let undo = [];
  /** @type {ImageData[]} */
  let redo = [];
  /** @type {(() => void)[]} */
  const listeners = [];
  let spaceDown = false;
  const COLOR = "rgb(236, 72, 120)";

  const changed = () => {
    ver += 1;
    undoBtn.disabled = undo.length === 0;
    redoBtn.disabled = redo.length === 0;
    for (const l of listeners) l();
  };

  const scan = () => {
    if (!W) return false;
    const d = ctx.getImageData(0, 0, W, H).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 127) return true;
    return false;
  };

  const snapshot = () => {
    undo.push(ctx.getImageData(0, 0, W, H));
    if (undo.length > MAX_UNDO) undo.shift();
    redo = [];
  };

  const applyTransform = () => {
    const vw = viewport.clientWidth;
    const vh = viewport.clientHeight;
    tx = Math.min(0, Math.max(vw * (1 - zoom), tx));
    ty = Math.min(0, Math.max(vh * (1 - zoom), ty));
    stage.style.transform = `translate(${tx}px, ${ty}px) scale(${zoom})`;
    zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
    zoomOut.disabled = zoom <= MIN_ZOOM;
    zoomIn.disabled = zoom >= MAX_ZOOM;
  };

  /** @param {number} z @param {number} [cx] @param {number} [cy] viewport-relative focus point */
  const setZoom = (z, cx, cy) => {
    const nz = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
    const fx = cx ?? viewport.clientWidth / 2;
    const fy = cy ?? viewport.clientHeight / 2;
    tx = fx - ((fx - tx) * nz) / zoom;
    ty = fy - ((fy - ty) * nz) / zoom;
    zoom = nz;
    applyTransform();
  };

  /** @param {number} clientX @param {number} clientY */
  const toImage = (clientX, clientY) => {
    const r = paint.getBoundingClientRect();
    return { x: ((clientX - r.left) * W) / r.width, y: ((clientY - r.top) * H) / r.height, scale: W / r.width };
  };

  const brushPx = () => Number(brush.value);

  /** @param {number} delta */
  const resizeBrush = (delta) => {
    brush.value = String(Math.min(Number(brush.max), Math.max(Number(brush.min), brushPx() + delta)));
    brushOut.textContent = `${brush.value} px`;
    updateCursorSize();
  };
  const updateCursorSize = () => {
    const size = brushPx();
    cursor.style.width = cursor.style.height = `${size}px`;
  };

  /** @param {boolean} on */
  const setEraser = (on) => {
    erasing = on;
    brushBtn.setAttribute("aria-pressed", String(!on));
    eraserBtn.setAttribute("aria-pressed", String(on));
    viewport.classList.toggle("is-erasing", on);
  };

  // ---- Drawing ----------------------------------------------------------------------------------
  /** @type {{ x: number, y: number } | null} */
  let last = null;
  /** @type {{ x: number, y: number, tx: number, ty: number } | null} */
  let panFrom = null;

  /** @param {number} x @param {number} y @param {number} radius */
  const dab = (x, y, radius) => {
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, Math.PI * 2);
    ctx.fill();
  };

  /** @param {PointerEvent} ev */
  const onDown = (ev) => {
    if (!W) return;
    viewport.focus({ preventScroll: true });
    if (ev.button === 1 || spaceDown || (ev.button === 0 && ev.altKey)) {
      panFrom = { x: ev.clientX, y: ev.clientY, tx, ty };
      viewport.setPointerCapture(ev.pointerId);
      viewport.classList.add("is-panning");
      ev.preventDefault();
      return;
    }
    if (ev.button !== 0) return;
    ev.preventDefault();
    viewport.setPointerCapture(ev.pointerId);
    snapshot();
    const p = toImage(ev.clientX, ev.clientY);
    const radius = (brushPx() / 2) * p.scale;
    ctx.globalCompositeOperation = erasing ? "destination-out" : "source-over";
    ctx.fillStyle = COLOR;
    ctx.strokeStyle = COLOR;
    ctx.lineWidth = radius * 2;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    dab(p.x, p.y, radius);
    last = { x: p.x, y: p.y };
  };

  /** @param {PointerEvent} ev */
  const onMove = (ev) => {
    const r = viewport.getBoundingClientRect();
    cursor.hidden = !W || spaceDown || !!panFrom;
    cursor.style.transform = `translate(${ev.clientX - r.left}px, ${ev.clientY - r.top}px) translate(-50%, -50%)`;
    if (panFrom) {
      tx = panFrom.tx + (ev.clientX - panFrom.x);
      ty = panFrom.ty + (ev.clientY - panFrom.y);
      applyTransform();
      return;
    }
    if (!last) return;
    const events = typeof ev.getCoalescedEvents === "function" ? ev.getCoalescedEvents() : [];
    for (const e of events.length ? events : [ev]) {
      const p = toImage(e.clientX, e.clientY);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = { x: p.x, y: p.y };
    }
  };

  /** @param {PointerEvent} ev */
  const onUp = (ev) => {
    if (viewport.hasPointerCapture(ev.pointerId)) viewport.releasePointerCapture(ev.pointerId);
    if (panFrom) {
      panFrom = null;
      viewport.classList.remove("is-panning");
      return;
    }
    if (!last) return;
    last = null;
    ctx.globalCompositeOperation = "source-over";
    painted = erasing ? scan() : true;
    changed();
  };

  viewport.addEventListener("pointerdown", onDown);
  viewport.addEventListener("pointermove", onMove);
  viewport.addEventListener("pointerup", onUp);
  viewport.addEventListener("pointercancel", onUp);
  viewport.addEventListener("pointerleave", () => (cursor.hidden = true));
  viewport.addEventListener("contextmenu", (ev) => ev.preventDefault());
  viewport.addEventListener("wheel", (ev) => {
    if (!W || !(ev.ctrlKey || ev.metaKey || zoom > 1)) return;
    ev.preventDefault();
    const r = viewport.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey) setZoom(zoom * Math.exp(-ev.deltaY * 0.0025), ev.clientX - r.left, ev.clientY - r.top);
    else {
      tx -= ev.deltaX;
      ty -= ev.deltaY;
      applyTransform();
    }
  }, { passive: false });
  viewport.addEventListener("keydown", (ev) => {
    if (ev.key === " ") {
      spaceDown = true;
      viewport.classList.add("can-pan");
      ev.preventDefault();
      return;
    }
    const step = 40;
    /** @type {Record<string, [number, number]>} */
    const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[ev.key] && zoom > 1) {
      ev.preventDefault();
      tx += moves[ev.key][0];
      ty += moves[ev.key][1];
      applyTransform();
    }
  });
  viewport.addEventListener("keyup", (ev) => {
    if (ev.key === " ") {
      spaceDown = false;
      viewport.classList.remove("can-pan");
    }
  });
  viewport.addEventListener("blur", () => {
    spaceDown = false;
    viewport.classList.remove("can-pan");
  });

  // ---- Toolbar actions --------------------------------------------------------------------------
  const doUndo = () => {
    const prev = undo.pop();
    if (!prev) return;
    redo.push(ctx.getImageData(0, 0, W, H));
    ctx.putImageData(prev, 0, 0);
    painted = scan();
    changed();
  };
  const doRedo = () => {
    const next = redo.pop();
    if (!next) return;
    undo.push(ctx.getImageData(0, 0, W, H));
    ctx.putImageData(next, 0, 0);
    painted = scan();
    changed();
  };
  const doInvert = () => {
    if (!W) return;
    snapshot();
    const img = ctx.getImageData(0, 0, W, H);
    const d = img.data;
    for (let i = 0; i < d.length; i += 4) {
      const on = d[i + 3] <= 127;
      d[i] = 236;
      d[i + 1] = 72;
      d[i + 2] = 120;
      d[i + 3] = on ? 255 : 0;
    }
    ctx.putImageData(img, 0, 0);
    painted = scan();
    changed();
  };
  const doClear = () => {
    if (!W || !painted) return;
    snapshot();
    ctx.clearRect(0, 0, W, H);
    painted = false;
    changed();
  };

  brushBtn.addEventListener("click", () => setEraser(false));
  eraserBtn.addEventListener("click", () => setEraser(true));
  undoBtn.addEventListener("click", doUndo);
  redoBtn.addEventListener("click", doRedo);
  invertBtn.addEventListener("click", doInvert);
  clearBtn.addEventListener("click", doClear);
  zoomIn.addEventListener("click", () => setZoom(zoom * 1.5));
  zoomOut.addEventListener("click", () => setZoom(zoom / 1.5));
  zoomFit.addEventListener("click", () => {
    zoom = 1;
    tx = ty = 0;
    applyTransform();
  });
  brush.addEventListener("input", () => {
    brushOut.textContent = `${brush.value} px`;
    updateCursorSize();
  });
  overlay.addEventListener("change", () => paint.classList.toggle("is-hidden", !overlay.checked));
  updateCursorSize();
  new ResizeObserver(() => applyTransform()).observe(viewport);

  const setEnabled = () => {
    const on = W > 0;
    el.classList.toggle("is-empty", !on);
    for (const b of [brushBtn, eraserBtn, invertBtn, clearBtn, zoomIn, zoomOut, zoomFit, brush, overlay]) b.disabled = !on;
    viewport.hidden = !on;
    empty.hidden = on;
    if (on) applyTransform();
  };
  setEnabled();

  return {
    el,
    size: () => (W ? { width: W, height: H } : null),
    hasMask: () => painted,
    version: () => ver,
    onChange: (cb) => void listeners.push(cb),
    setBase: async (url, width, height) => {
      if (!url) {
        W = H = 0;
        baseImg.removeAttribute("src");
        painted = false;
        undo = [];
        redo = [];
        setEnabled();
        changed();
        return;
      }
      const img = await loadImage(url);
      W = width || img.naturalWidth;
      H = height || img.naturalHeight;
      baseImg.src = url;
      paint.width = W;
      paint.height = H;
      viewport.style.aspectRatio = `${W} / ${H}`;
      viewport.style.width = `min(100%, calc(var(--painter-max-h) * ${W} / ${H}))`;
      zoom = 1;
      tx = ty = 0;
      painted = false;
      undo = [];
      redo = [];
      setEnabled();
      changed();
    },
    exportMask: async () => {
      if (!W || !painted) return null;
      const src = ctx.getImageData(0, 0, W, H).data;
      const out = document.createElement("canvas");
      out.width = W;
      out.height = H;
      const octx = out.getContext("2d");
      if (!octx) return null;
      const img = octx.createImageData(W, H);
      const d = img.data;
      for (let i = 0; i < d.length; i += 4) {
        // Painted → fully transparent (edit here); everything else opaque black.
        d[i + 3] = src[i + 3] > 127 ? 0 : 255;
      }
      octx.putImageData(img, 0, 0);
      return new Promise((resolve) => out.toBlob((b) => resolve(b), "image/png"));
    },
    loadMask: async (src) => {
      if (!W) throw new Error("Add a base image first.");
      const url = typeof src === "string" ? src : URL.createObjectURL(src);
      try {
        const img = await loadImage(url);
        const scaled = img.naturalWidth !== W || img.naturalHeight !== H;
        const tmp = document.createElement("canvas");
        tmp.width = W;
        tmp.height = H;
        const tctx = tmp.getContext("2d", { willReadFrequently: true });
        if (!tctx) throw new Error("Canvas 2D is not available");
        tctx.drawImage(img, 0, 0, W, H);
        const m = tctx.getImageData(0, 0, W, H).data;
        snapshot();
        const cur = ctx.createImageData(W, H);
        const d = cur.data;
        for (let i = 0; i < d.length; i += 4) {
          if (m[i + 3] < 128) {
            d[i] = 236;
            d[i + 1] = 72;
            d[i + 2] = 120;
            d[i + 3] = 255;
          }
        }
        ctx.putImageData(cur, 0, 0);
        painted = scan();
        changed();
        return { scaled };
      } finally {
        if (typeof src !== "string") URL.revokeObjectURL(url);
      }
    },
    clear: doClear,
    handleKey: (ev) => {
      if (!W) return false;
      const mod = ev.ctrlKey || ev.metaKey;
      const key = ev.key.toLowerCase();
      if (mod && key === "z") {
        if (ev.shiftKey) doRedo();
        else doUndo();
        return true;
      }
      if (mod && key === "y") {
        doRedo();
        return true;
      }
      if (mod || ev.altKey) return false;
      if (ev.key === "[") resizeBrush(-4);
      else if (ev.key === "]") resizeBrush(4);
      else if (key === "e") setEraser(true);
      else if (key === "b") setEraser(false);
      else if (ev.key === "+" || ev.key === "=") setZoom(zoom * 1.5);
      else if (ev.key === "-") setZoom(zoom / 1.5);
      else if (ev.key === "0") zoomFit.click();
      else return false;
      return true;
    },
  };
}
