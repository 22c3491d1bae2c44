// @ts-check
// Viewport of the mask painter: zoom (buttons, Ctrl+wheel, keys) and pan (Space+drag, middle-drag, Alt+drag,
// wheel when zoomed, arrow keys) of the stage holding the base image and the mask layer.
import { h, icon } from "./ui.js";

const MIN_ZOOM = 1;
const MAX_ZOOM = 8;
const ZOOM_STEP = 1.5;
const ARROW_PAN = 40;

/**
 * @typedef {{
 *   zoomOut: HTMLButtonElement, zoomIn: HTMLButtonElement, zoomFit: HTMLButtonElement, zoomLabel: HTMLElement,
 *   apply: () => void,
 *   zoomBy: (factor: number, cx?: number, cy?: number) => void,
 *   fit: () => void,
 *   reset: () => void,
 *   panning: () => boolean,
 *   beginPan: (ev: PointerEvent) => boolean,
 *   movePan: (ev: PointerEvent) => boolean,
 *   endPan: () => boolean,
 * }} MaskViewport
 */

/**
 * @param {HTMLElement} viewport the focusable frame (clips the stage)
 * @param {HTMLElement} stage the transformed content
 * @param {() => boolean} hasImage whether a base image is loaded (no zoom or pan without one)
 * @returns {MaskViewport}
 */
export function createMaskViewport(viewport, stage, hasImage) {
  const zoomOut = h("button", { type: "button", class: "btn-tool", "aria-label": "Zoom out", title: "Zoom out (−)" }, icon("minus"));
  const zoomIn = h("button", { type: "button", class: "btn-tool", "aria-label": "Zoom in", title: "Zoom in (+)" }, icon("plus"));
  const zoomFit = h("button", { type: "button", class: "btn-tool", "aria-label": "Fit to view", title: "Fit (0)" }, icon("fit"));
  const zoomLabel = h("span", { class: "zoom-label", "aria-live": "polite", text: "100%" });
  let zoom = 1;
  let tx = 0;
  let ty = 0;
  let spaceDown = false;
  /** @type {{ x: number, y: number, tx: number, ty: number } | null} */
  let panFrom = null;

  const apply = () => {
    tx = Math.min(0, Math.max(viewport.clientWidth * (1 - zoom), tx));
    ty = Math.min(0, Math.max(viewport.clientHeight * (1 - zoom), ty));
    stage.style.transform = `translate(${tx}px, ${ty}px) scale(${zoom})`;
    zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
    zoomOut.disabled = zoom <= MIN_ZOOM;
    zoomIn.disabled = zoom >= MAX_ZOOM;
  };
  /** @param {number} factor @param {number} [cx] @param {number} [cy] viewport-relative focus point */
  const zoomBy = (factor, cx, cy) => {
    const nz = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom * factor));
    const fx = cx ?? viewport.clientWidth / 2;
    const fy = cy ?? viewport.clientHeight / 2;
    tx = fx - ((fx - tx) * nz) / zoom;
    ty = fy - ((fy - ty) * nz) / zoom;
    zoom = nz;
    apply();
  };
  const reset = () => {
    zoom = 1;
    tx = ty = 0;
  };
  /** @param {number} dx @param {number} dy */
  const panBy = (dx, dy) => {
    tx += dx;
    ty += dy;
    apply();
  };
  /** @param {boolean} down */
  const setSpace = (down) => {
    spaceDown = down;
    viewport.classList.toggle("can-pan", down);
  };

  viewport.addEventListener("wheel", (ev) => {
    if (!hasImage() || !(ev.ctrlKey || ev.metaKey || zoom > 1)) return;
    ev.preventDefault();
    const r = viewport.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey) zoomBy(Math.exp(-ev.deltaY * 0.0025), ev.clientX - r.left, ev.clientY - r.top);
    else panBy(-ev.deltaX, -ev.deltaY);
  }, { passive: false });
  viewport.addEventListener("keydown", (ev) => {
    if (ev.key === " ") {
      setSpace(true);
      ev.preventDefault();
      return;
    }
    /** @type {Record<string, [number, number]>} */
    const moves = { ArrowLeft: [ARROW_PAN, 0], ArrowRight: [-ARROW_PAN, 0], ArrowUp: [0, ARROW_PAN], ArrowDown: [0, -ARROW_PAN] };
    if (moves[ev.key] && zoom > 1) {
      ev.preventDefault();
      panBy(moves[ev.key][0], moves[ev.key][1]);
    }
  });
  viewport.addEventListener("keyup", (ev) => {
    if (ev.key === " ") setSpace(false);
  });
  viewport.addEventListener("blur", () => setSpace(false));
  zoomIn.addEventListener("click", () => zoomBy(ZOOM_STEP));
  zoomOut.addEventListener("click", () => zoomBy(1 / ZOOM_STEP));
  zoomFit.addEventListener("click", () => {
    reset();
    apply();
  });
  new ResizeObserver(() => apply()).observe(viewport);

  return {
    zoomOut, zoomIn, zoomFit, zoomLabel, apply, zoomBy, reset,
    fit: () => {
      reset();
      apply();
    },
    panning: () => spaceDown || !!panFrom,
    beginPan: (ev) => {
      if (!(ev.button === 1 || spaceDown || (ev.button === 0 && ev.altKey))) return false;
      panFrom = { x: ev.clientX, y: ev.clientY, tx, ty };
      viewport.setPointerCapture(ev.pointerId);
      viewport.classList.add("is-panning");
      ev.preventDefault();
      return true;
    },
    movePan: (ev) => {
      if (!panFrom) return false;
      tx = panFrom.tx + (ev.clientX - panFrom.x);
      ty = panFrom.ty + (ev.clientY - panFrom.y);
      apply();
      return true;
    },
    endPan: () => {
      if (!panFrom) return false;
      panFrom = null;
      viewport.classList.remove("is-panning");
      return true;
    },
  };
}
