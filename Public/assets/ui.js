// @ts-check
// Small DOM helpers shared by the screens.
import { ApiError, errorMessage } from "./api.js";

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * Creates an element. Attributes: `class`, `text`, `dataset`, `on<event>` handlers, boolean and string attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = String(v);
      else if (k === "text") el.textContent = String(v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== "string") /** @type {any} */ (el)[k] = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {(Child | Child[])[]} children */
function append(el, children) {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c === null || c === undefined || c === false) continue;
    else el.append(typeof c === "number" ? String(c) : c);
  }
}

/**
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {T}
 */
export function $(root, selector) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing ${selector}`);
  return /** @type {T} */ (el);
}

/** @param {Element} el */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

let uid = 0;
/** @param {string} prefix */
export const nextId = (prefix) => `${prefix}-${++uid}`;

/**
 * @template {(...args: any[]) => void} F
 * @param {F} fn
 * @param {number} ms
 * @returns {F & { cancel: () => void }}
 */
export function debounce(fn, ms) {
  /** @type {number | undefined} */
  let t;
  const d = /** @type {any} */ ((/** @type {any[]} */ ...args) => {
    window.clearTimeout(t);
    t = window.setTimeout(() => fn(...args), ms);
  });
  d.cancel = () => window.clearTimeout(t);
  return d;
}

// ---- Toasts and announcements -------------------------------------------------------------------

/**
 * Shows a message in the alert region (role="alert").
 * @param {string} message
 * @param {"error" | "info" | "success"} [kind]
 */
export function toast(message, kind = "error") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", text: "×" });
  const item = h("div", { class: `toast toast-${kind}` }, h("span", { class: "toast-text", text: message }), close);
  const remove = () => item.remove();
  close.addEventListener("click", remove);
  region.append(item);
  window.setTimeout(remove, kind === "error" ? 9000 : 4000);
}

/**
 * Polite status announcement for screen readers.
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById("status-live");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => (region.textContent = message), 30);
}

// ---- Field errors -------------------------------------------------------------------------------

/**
 * Maps API field aliases to our control names.
 * @param {string} field
 */
export function normalizeField(field) {
  const aliases = /** @type {Record<string, string>} */ ({
    format: "output_format", compression: "output_compression", "image": "image[0]", "files[]": "image[0]",
    "image[]": "image[0]",
  });
  if (aliases[field]) return aliases[field];
  const m = /^(?:files|image)\[(\d+)\]$/.exec(field);
  if (m) return `image[${m[1]}]`;
  return field;
}

/**
 * Clears every inline field error inside `root`.
 * @param {ParentNode} root
 */
export function clearFieldErrors(root) {
  for (const el of root.querySelectorAll(".field-error")) {
    el.textContent = "";
    /** @type {HTMLElement} */ (el).hidden = true;
  }
  for (const el of root.querySelectorAll("[aria-invalid='true']")) el.removeAttribute("aria-invalid");
  for (const el of root.querySelectorAll(".has-error")) el.classList.remove("has-error");
}

/**
 * Shows `message` next to the control named `field` inside `root`. Returns false when no such control exists.
 * Controls opt in with `name="<field>"` (form controls) or `data-field="<field>"` (composite widgets),
 * and an element `[data-error-for="<field>"]` to hold the message.
 * @param {ParentNode} root
 * @param {string} field
 * @param {string} message
 * @param {boolean} [focus]
 * @returns {boolean}
 */
export function showFieldError(root, field, message, focus = true) {
  const name = normalizeField(field);
  const esc = CSS.escape(name);
  const slot = /** @type {HTMLElement | null} */ (root.querySelector(`[data-error-for="${esc}"]`));
  const control = /** @type {HTMLElement | null} */ (
    root.querySelector(`[name="${esc}"]:not([type=hidden])`) || root.querySelector(`[data-field="${esc}"]`));
  if (!slot && !control) return false;
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
    const wrapper = slot.closest(".field, .tray-item");
    if (wrapper) wrapper.classList.add("has-error");
  }
  if (control) {
    control.setAttribute("aria-invalid", "true");
    if (slot) {
      if (!slot.id) slot.id = nextId("err");
      const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!ids.includes(slot.id)) control.setAttribute("aria-describedby", [...ids, slot.id].join(" "));
    }
    const details = control.closest("details");
    if (details && !details.open) details.open = true;
    if (focus) control.focus({ preventScroll: false });
  }
  return true;
}

/**
 * Routes an error: a field error goes next to its control, everything else to the alert toast.
 * @param {unknown} e
 * @param {ParentNode} root
 * @param {string} [context] prefix for the toast
 */
export function reportError(e, root, context) {
  if (e instanceof DOMException && e.name === "AbortError") return;
  if (e instanceof ApiError && e.field && showFieldError(root, e.field, e.message)) return;
  const msg = errorMessage(e);
  toast(context ? `${context}: ${msg}` : msg, "error");
}

// ---- Formatting ---------------------------------------------------------------------------------

/** @param {number | null | undefined} usd */
export function formatUsd(usd) {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return "—";
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return "$" + usd.toFixed(4);
  return "$" + usd.toFixed(usd < 1 ? 3 : 2);
}

/** @param {number | null | undefined} n */
export const formatInt = (n) => (n === null || n === undefined ? "—" : n.toLocaleString("en-US"));

/** @param {string | null | undefined} iso */
export function formatDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** @param {string | null | undefined} iso */
export function relativeTime(iso) {
  if (!iso) return "";
  const d = new Date(iso).getTime();
  if (Number.isNaN(d)) return "";
  const s = Math.round((Date.now() - d) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" });
}

/**
 * Aspect ratio "W / H" for a size string such as "1536x1024"; "1 / 1" for auto/unknown.
 * @param {string | null | undefined} size
 */
export function aspectOf(size) {
  const m = /^(\d+)x(\d+)$/.exec(size || "");
  return m ? `${m[1]} / ${m[2]}` : "1 / 1";
}

// ---- Misc ---------------------------------------------------------------------------------------

/** @param {Blob} blob @param {string} filename */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** @param {string} text @returns {Promise<void>} */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    /* fall back below (insecure context or permission denied) */
  }
  const ta = h("textarea", { class: "visually-hidden", readonly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  document.execCommand("copy");
  ta.remove();
}

/**
 * A modal confirm built on <dialog>. Resolves true when confirmed.
 * @param {{ title: string, body: string, confirm: string, danger?: boolean }} o
 * @returns {Promise<boolean>}
 */
export function confirmDialog(o) {
  return new Promise((resolve) => {
    const titleId = nextId("dlg-title");
    const ok = h("button", { type: "submit", value: "ok", class: o.danger ? "btn btn-danger" : "btn btn-primary", text: o.confirm });
    const cancel = h("button", { type: "submit", value: "cancel", class: "btn", text: "Cancel" });
    const dlg = h("dialog", { class: "dialog", "aria-labelledby": titleId },
      h("form", { method: "dialog" },
        h("h2", { id: titleId, text: o.title }),
        h("p", { text: o.body }),
        h("div", { class: "dialog-actions" }, cancel, ok)));
    document.body.append(dlg);
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "ok");
      dlg.remove();
    });
    dlg.showModal();
    cancel.focus();
  });
}

/**
 * Builds an <img> that fades in once loaded, inside a box that already has its aspect ratio.
 * @param {string} src
 * @param {string} alt
 * @param {string} [cls]
 */
export function fadeImg(src, alt, cls = "") {
  const img = h("img", { src, alt, class: `fade ${cls}`.trim(), decoding: "async", draggable: false });
  const done = () => img.classList.add("loaded");
  if (img.complete && img.naturalWidth) done();
  img.addEventListener("load", done);
  img.addEventListener("error", () => img.classList.add("broken", "loaded"));
  return img;
}

/**
 * Inline SVG icons (stroke style).
 * @param {string} name
 * @returns {SVGSVGElement}
 */
export function icon(name) {
  const paths = /** @type {Record<string, string>} */ ({
    download: "M12 4v11m0 0-4-4m4 4 4-4M5 20h14",
    copy: "M9 9h10v10H9zM5 15V5h10",
    edit: "M4 20h4L19 9l-4-4L4 16v4z",
    rerun: "M4 12a8 8 0 0 1 14-5.3M20 12a8 8 0 0 1-14 5.3M18 3v4h-4M6 21v-4h4",
    star: "M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.8l-5.2 2.8 1-5.8-4.3-4.1 5.9-.9z",
    trash: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
    up: "M12 19V5m0 0-6 6m6-6 6 6",
    left: "M19 12H5m0 0 6-6m-6 6 6 6",
    right: "M5 12h14m0 0-6-6m6 6-6 6",
    close: "M6 6l12 12M18 6 6 18",
    plus: "M12 5v14M5 12h14",
    minus: "M5 12h14",
    image: "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4",
    sparkle: "M12 3v4m0 10v4M3 12h4m10 0h4M6 6l2.5 2.5m7 7L18 18M6 18l2.5-2.5m7-7L18 6",
    undo: "M9 14 4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3",
    redo: "M15 14l5-5-5-5M20 9H10a6 6 0 0 0 0 12h3",
    zip: "M6 3h9l3 3v15H6zM11 6h2M11 9h2M11 12h2v3h-2z",
    check: "M5 12l5 5L20 7",
    brush: "M14 4l6 6-8 8H6v-6z",
    eraser: "M8 20h12M4 14l8-8 6 6-6 6H8z",
    fit: "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5",
  });
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", paths[name] || paths.image);
  svg.append(p);
  return svg;
}
