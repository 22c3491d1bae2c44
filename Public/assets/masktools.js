// @ts-check
// Tools of the mask painter: brush and eraser (buttons, B/E keys), brush size ([ ] keys), the brush cursor,
// and the strokes they draw on the mask layer.
import { h, icon, nextId } from "./ui.js";
import { MASK_COLOR } from "./maskpixels.js";

/**
 * @typedef {{
 *   brushBtn: HTMLButtonElement, eraserBtn: HTMLButtonElement, brush: HTMLInputElement, brushGroup: HTMLElement,
 *   cursor: HTMLElement,
 *   setEraser: (on: boolean) => void,
 *   resizeBrush: (delta: number) => void,
 *   moveCursor: (ev: PointerEvent, hidden: boolean) => void,
 *   begin: (ctx: CanvasRenderingContext2D, p: { x: number, y: number, scale: number }) => void,
 *   extend: (ctx: CanvasRenderingContext2D, p: { x: number, y: number }) => boolean,
 *   end: (ctx: CanvasRenderingContext2D) => { erased: boolean } | null,
 * }} MaskTools
 */

/** @param {HTMLElement} viewport the element the cursor is positioned in @returns {MaskTools} */
export function createMaskTools(viewport) {
  const sizeId = nextId("brush");
  const brush = h("input", { type: "range", id: sizeId, min: "4", max: "160", step: "1", value: "40", name: "brush_size" });
  const brushOut = h("output", { class: "range-value", for: sizeId, text: "40 px" });
  const brushBtn = h("button", { type: "button", class: "btn-tool", "aria-pressed": "true", title: "Brush (B)", "aria-label": "Brush" }, icon("brush"));
  const eraserBtn = h("button", { type: "button", class: "btn-tool", "aria-pressed": "false", title: "Eraser (E)", "aria-label": "Eraser" }, icon("eraser"));
  const brushGroup = h("div", { class: "tool-group tool-brush" }, h("label", { for: sizeId, text: "Brush" }), brush, brushOut);
  const cursor = h("div", { class: "painter-cursor", hidden: true, "aria-hidden": "true" });
  let erasing = false;
  /** @type {{ x: number, y: number } | null} */
  let last = null;

  const brushPx = () => Number(brush.value);
  const showSize = () => {
    brushOut.textContent = `${brush.value} px`;
    cursor.style.width = cursor.style.height = `${brushPx()}px`;
  };
  /** @param {boolean} on */
  const setEraser = (on) => {
    erasing = on;
    brushBtn.setAttribute("aria-pressed", String(!on));
    eraserBtn.setAttribute("aria-pressed", String(on));
    viewport.classList.toggle("is-erasing", on);
  };
  brushBtn.addEventListener("click", () => setEraser(false));
  eraserBtn.addEventListener("click", () => setEraser(true));
  brush.addEventListener("input", showSize);
  viewport.addEventListener("pointerleave", () => (cursor.hidden = true));
  showSize();

  return {
    brushBtn, eraserBtn, brush, brushGroup, cursor, setEraser,
    resizeBrush: (delta) => {
      brush.value = String(Math.min(Number(brush.max), Math.max(Number(brush.min), brushPx() + delta)));
      showSize();
    },
    moveCursor: (ev, hidden) => {
      const r = viewport.getBoundingClientRect();
      cursor.hidden = hidden;
      cursor.style.transform = `translate(${ev.clientX - r.left}px, ${ev.clientY - r.top}px) translate(-50%, -50%)`;
    },
    begin: (ctx, p) => {
      const radius = (brushPx() / 2) * p.scale;
      ctx.globalCompositeOperation = erasing ? "destination-out" : "source-over";
      ctx.fillStyle = ctx.strokeStyle = MASK_COLOR;
      ctx.lineWidth = radius * 2;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.arc(p.x, p.y, radius, 0, Math.PI * 2);
      ctx.fill();
      last = { x: p.x, y: p.y };
    },
    extend: (ctx, p) => {
      if (!last) return false;
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = { x: p.x, y: p.y };
      return true;
    },
    end: (ctx) => {
      if (!last) return null;
      last = null;
      ctx.globalCompositeOperation = "source-over";
      return { erased: erasing };
    },
  };
}
