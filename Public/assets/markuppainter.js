// @ts-check
// Markup layer: arrows, circles and notes drawn over the base image to guide an edit. Exported as a PNG of the
// base image's natural size, transparent wherever nothing was drawn (the upstream's `markup` file).
import { h, nextId } from "./ui.js";

/**
 * @typedef {{ kind: "arrow", x1: number, y1: number, x2: number, y2: number }
 *         | { kind: "circle", x1: number, y1: number, x2: number, y2: number }
 *         | { kind: "note", x1: number, y1: number, text: string }} Mark
 * @typedef {{
 *   el: HTMLElement,
 *   setBase: (url: string | null, width?: number, height?: number) => void,
 *   hasMarks: () => boolean,
 *   exportMarkup: () => Promise<Blob | null>,
 *   clear: () => void,
 *   onChange: (cb: () => void) => void,
 * }} MarkupPainter
 */

const INK = "#e11d48";
const TOOLS = /** @type {const} */ (["arrow", "circle", "note"]);

/** @returns {MarkupPainter} */
export function createMarkupPainter() {
  const canvas = h("canvas", { class: "markup-canvas", width: 1, height: 1 });
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const baseImg = h("img", { class: "painter-base", alt: "Base image", draggable: false });
  const hintId = nextId("markup-hint");
  const stage = h("div", {
    class: "markup-stage", tabindex: "0", role: "application", "aria-describedby": hintId,
    "aria-label": "Markup canvas: drag to draw, click to place a note; Enter places the tool in the middle",
  }, baseImg, canvas);
  /** @type {"arrow" | "circle" | "note"} */
  let tool = "arrow";
  const toolButtons = TOOLS.map((t) => {
    const b = h("button", { type: "button", class: "btn btn-small", "aria-pressed": String(t === tool), text: t[0].toUpperCase() + t.slice(1), dataset: { tool: t } });
    b.addEventListener("click", () => {
      tool = t;
      for (const x of toolButtons) x.setAttribute("aria-pressed", String(x === b));
    });
    return b;
  });
  const noteId = nextId("note");
  const noteText = h("input", { type: "text", id: noteId, name: "markup_note", value: "here", maxLength: 80, autocomplete: "off" });
  const undoBtn = h("button", { type: "button", class: "btn btn-small", text: "Undo" });
  const clearBtn = h("button", { type: "button", class: "btn btn-small", text: "Clear" });
  const el = h("div", { class: "markup" },
    h("div", { class: "markup-tools", role: "group", "aria-label": "Markup tools" }, ...toolButtons,
      h("label", { for: noteId, text: "Note" }), noteText, undoBtn, clearBtn),
    stage,
    h("p", { class: "hint", id: hintId, text: "Drag to draw an arrow or a circle; click to place the note. Only what you draw is sent." }));

  /** @type {Mark[]} */
  let marks = [];
  /** @type {Mark | null} */
  let draft = null;
  /** @type {(() => void)[]} */
  const listeners = [];
  const changed = () => {
    render();
    for (const cb of listeners) cb();
  };
  const width = () => Math.max(3, Math.round(canvas.width / 180));

  const render = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const m of draft ? [...marks, draft] : marks) drawMark(ctx, m, width());
  };

  /** @param {PointerEvent} ev @returns {{ x: number, y: number }} */
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((ev.clientX - r.left) / r.width) * canvas.width, y: ((ev.clientY - r.top) / r.height) * canvas.height };
  };
  /** @param {number} x @param {number} y @param {number} x2 @param {number} y2 @returns {Mark} */
  const make = (x, y, x2, y2) => (tool === "note"
    ? { kind: "note", x1: x, y1: y, text: noteText.value.trim() || "here" }
    : { kind: tool, x1: x, y1: y, x2, y2 });

  canvas.addEventListener("pointerdown", (ev) => {
    if (!baseImg.src) return;
    const p = at(ev);
    canvas.setPointerCapture(ev.pointerId);
    draft = make(p.x, p.y, p.x, p.y);
    render();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!draft || draft.kind === "note") return;
    const p = at(ev);
    draft.x2 = p.x;
    draft.y2 = p.y;
    render();
  });
  canvas.addEventListener("pointerup", () => {
    if (!draft) return;
    const m = draft;
    draft = null;
    if (m.kind === "note" || Math.hypot(m.x2 - m.x1, m.y2 - m.y1) > width()) marks.push(m);
    changed();
  });
  stage.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !baseImg.src) return;
    ev.preventDefault();
    const cx = canvas.width / 2, cy = canvas.height / 2, r = Math.min(cx, cy) / 3;
    marks.push(make(cx - r, cy - r, cx + r, cy + r));
    changed();
  });
  undoBtn.addEventListener("click", () => {
    marks.pop();
    changed();
  });
  clearBtn.addEventListener("click", () => {
    marks = [];
    changed();
  });

  return {
    el,
    setBase: (url, w, hh) => {
      marks = [];
      if (url) baseImg.src = url;
      else baseImg.removeAttribute("src");
      canvas.width = w || 1;
      canvas.height = hh || 1;
      stage.hidden = !url;
      changed();
    },
    hasMarks: () => marks.length > 0,
    exportMarkup: () => new Promise((resolve) => (marks.length ? canvas.toBlob((b) => resolve(b), "image/png") : resolve(null))),
    clear: () => {
      marks = [];
      changed();
    },
    onChange: (cb) => listeners.push(cb),
  };
}

/**
 * Draws one mark in the ink colour; `width` is the line width (notes are 7 times as tall).
 * @param {CanvasRenderingContext2D} ctx
 * @param {Mark} m
 * @param {number} width
 */
function drawMark(ctx, m, width) {
  ctx.strokeStyle = ctx.fillStyle = INK;
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  if (m.kind === "note") {
    ctx.font = `bold ${width * 7}px sans-serif`;
    ctx.fillText(m.text, m.x1, m.y1);
    return;
  }
  ctx.beginPath();
  if (m.kind === "circle") {
    ctx.ellipse((m.x1 + m.x2) / 2, (m.y1 + m.y2) / 2, Math.abs(m.x2 - m.x1) / 2 || 1, Math.abs(m.y2 - m.y1) / 2 || 1, 0, 0, 2 * Math.PI);
  } else {
    const angle = Math.atan2(m.y2 - m.y1, m.x2 - m.x1);
    const head = width * 5;
    ctx.moveTo(m.x1, m.y1);
    ctx.lineTo(m.x2, m.y2);
    for (const side of [-1, 1]) {
      ctx.moveTo(m.x2, m.y2);
      ctx.lineTo(m.x2 - head * Math.cos(angle + side * 0.5), m.y2 - head * Math.sin(angle + side * 0.5));
    }
  }
  ctx.stroke();
}
