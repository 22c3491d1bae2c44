// @ts-check
// Pixel rules of the mask painter. On the mask layer a pixel is painted when its alpha is above 127; the exported
// mask is the opposite: painted pixels alpha 0 (transparent = edit here), the rest opaque black.

/** The colour painted strokes are shown in on the mask layer. */
export const MASK_RGB = /** @type {const} */ ([236, 72, 120]);
export const MASK_COLOR = `rgb(${MASK_RGB.join(", ")})`;

/**
 * @param {Uint8ClampedArray} data
 * @param {number} i
 */
const setPainted = (data, i) => {
  data[i] = MASK_RGB[0];
  data[i + 1] = MASK_RGB[1];
  data[i + 2] = MASK_RGB[2];
  data[i + 3] = 255;
};

/**
 * @param {Uint8ClampedArray} layer RGBA of the mask layer
 */
export function hasPaint(layer) {
  for (let i = 3; i < layer.length; i += 4) if (layer[i] > 127) return true;
  return false;
}

/**
 * Painted becomes unpainted and the reverse.
 * @param {ImageData} layer
 */
export function invertPaint(layer) {
  const d = layer.data;
  for (let i = 0; i < d.length; i += 4) {
    const on = d[i + 3] <= 127;
    setPainted(d, i);
    d[i + 3] = on ? 255 : 0;
  }
}

/**
 * The upload mask of a mask layer.
 * @param {Uint8ClampedArray} layer
 * @param {ImageData} out same size, all zero
 */
export function maskFromPaint(layer, out) {
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) d[i + 3] = layer[i + 3] > 127 ? 0 : 255;
}

/**
 * A mask layer from a mask file's pixels (transparent there = painted).
 * @param {Uint8ClampedArray} mask
 * @param {ImageData} out same size, all zero
 */
export function paintFromMask(mask, out) {
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) if (mask[i + 3] < 128) setPainted(d, i);
}

/**
 * @param {string} src
 * @returns {Promise<HTMLImageElement>}
 */
export function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("The image could not be loaded."));
    img.src = src;
  });
}

/**
 * A scratch 2D context of the given size.
 * @param {number} width
 * @param {number} height
 */
export function scratchContext(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("Canvas 2D is not available");
  return ctx;
}

/**
 * The PNG upload mask of a mask layer.
 * @param {CanvasRenderingContext2D} layer
 * @returns {Promise<Blob | null>}
 */
export function exportMaskPng(layer) {
  const { width, height } = layer.canvas;
  const out = scratchContext(width, height);
  const img = out.createImageData(width, height);
  maskFromPaint(layer.getImageData(0, 0, width, height).data, img);
  out.putImageData(img, 0, 0);
  return new Promise((resolve) => out.canvas.toBlob((b) => resolve(b), "image/png"));
}

/**
 * The mask layer pixels of a mask image, scaled to the layer's size.
 * @param {CanvasRenderingContext2D} layer
 * @param {string | Blob} src
 * @returns {Promise<{ pixels: ImageData, scaled: boolean }>}
 */
export async function readMaskFile(layer, src) {
  const { width, height } = layer.canvas;
  const url = typeof src === "string" ? src : URL.createObjectURL(src);
  try {
    const img = await loadImage(url);
    const tmp = scratchContext(width, height);
    tmp.drawImage(img, 0, 0, width, height);
    const pixels = layer.createImageData(width, height);
    paintFromMask(tmp.getImageData(0, 0, width, height).data, pixels);
    return { pixels, scaled: img.naturalWidth !== width || img.naturalHeight !== height };
  } finally {
    if (typeof src !== "string") URL.revokeObjectURL(url);
  }
}
