// @ts-check
// Sizes in the options drawer: labels with the aspect ratio, and the check of a free WxH against a model's rule.

/** @typedef {import("./api.js").FreeSizeRule} FreeSizeRule */

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
