// @ts-check
// Undo/redo of the mask painter: bounded stacks of whole-canvas snapshots of the mask layer.

const MAX_UNDO = 24;

/**
 * @typedef {{
 *   snapshot: () => void,
 *   undo: () => boolean,
 *   redo: () => boolean,
 *   reset: () => void,
 *   canUndo: () => boolean,
 *   canRedo: () => boolean,
 * }} MaskHistory
 */

/** @param {CanvasRenderingContext2D} ctx the mask layer; snapshots cover its whole canvas @returns {MaskHistory} */
export function createMaskHistory(ctx) {
  /** @type {ImageData[]} */
  let undo = [];
  /** @type {ImageData[]} */
  let redo = [];
  const current = () => ctx.getImageData(0, 0, ctx.canvas.width, ctx.canvas.height);

  /**
   * Moves one snapshot from `from` to the canvas, saving the canvas on `to`.
   * @param {ImageData[]} from
   * @param {ImageData[]} to
   */
  const step = (from, to) => {
    const target = from.pop();
    if (!target) return false;
    to.push(current());
    ctx.putImageData(target, 0, 0);
    return true;
  };

  return {
    snapshot: () => {
      undo.push(current());
      if (undo.length > MAX_UNDO) undo.shift();
      redo = [];
    },
    undo: () => step(undo, redo),
    redo: () => step(redo, undo),
    reset: () => {
      undo = [];
      redo = [];
    },
    canUndo: () => undo.length > 0,
    canRedo: () => redo.length > 0,
  };
}
