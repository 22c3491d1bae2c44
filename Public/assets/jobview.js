// @ts-check
// Views of a job shared by the job card (jobcard.js), the detail page and the history: status pill and texts,
// outputs and changes maps, file names, and the before/after compare widget.
import { h, icon, fadeImg } from "./ui.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */

export const STATUS_TEXT = /** @type {Record<string, string>} */ ({
  queued: "Queued", running: "Generating…", succeeded: "Done", failed: "Failed", canceled: "Canceled",
});

/** The outputs, in order (`images` holds outputs only; the changes map and raw output are in `extras`).
 * @param {Job} job @returns {ImageInfo[]} */
export function outputsOf(job) {
  return (job.images || []).filter((i) => i.role === "output").sort((a, b) => a.index - b.index);
}

/** The changed-pixels map for an edit's output (its own, else the job's first), if the job made one.
 * @param {Job} job @param {ImageInfo} img @returns {ImageInfo | null} */
export function changesFor(job, img) {
  const maps = (job.extras || []).filter((x) => x.role === "changes");
  return maps.find((x) => x.index === img.index) || maps[0] || null;
}

/** @param {Job} job @param {ImageInfo} img */
export function fileName(job, img) {
  return `atelier-${job.id.slice(0, 8)}-${img.index + 1}.${img.format === "jpeg" ? "jpg" : img.format}`;
}

/**
 * "Waiting for OpenAI's rate limit, about N s", counted from when the wait ends (the server's text as a fallback).
 * @param {{ until: string, message: string }} waiting
 */
export function waitingText(waiting) {
  const ends = Date.parse(waiting.until);
  if (Number.isNaN(ends)) return waiting.message;
  return `Waiting for OpenAI's rate limit, about ${Math.max(0, Math.ceil((ends - Date.now()) / 1000))} s`;
}

/** @param {string} status */
export function statusPill(status) {
  return h("span", { class: `pill pill-${status}` }, h("span", { class: "pill-dot", "aria-hidden": "true" }), STATUS_TEXT[status] || status);
}

/**
 * Before/after slider: the "after" image underneath, the "before" image clipped on top.
 * @param {string} beforeUrl @param {string} afterUrl @param {string} aspect CSS aspect-ratio
 * @param {string | null} changesUrl changed-pixels overlay, toggled with a switch
 */
export function compareView(beforeUrl, afterUrl, aspect, changesUrl) {
  const range = h("input", { type: "range", min: "0", max: "100", value: "50", class: "compare-range", "aria-label": "Before / after position" });
  const before = h("div", { class: "compare-before" }, fadeImg(beforeUrl, "Before"));
  const changes = changesUrl ? h("img", { src: changesUrl, alt: "Changed pixels", class: "compare-changes", hidden: true }) : null;
  const handle = h("div", { class: "compare-handle", "aria-hidden": "true" });
  const box = h("div", { class: "compare media-box", style: { aspectRatio: aspect } },
    fadeImg(afterUrl, "After"), before, changes, handle, range,
    h("span", { class: "compare-tag compare-tag-before", text: "Before" }),
    h("span", { class: "compare-tag compare-tag-after", text: "After" }));
  const set = () => {
    before.style.clipPath = `inset(0 ${100 - Number(range.value)}% 0 0)`;
    handle.style.left = `${range.value}%`;
  };
  range.addEventListener("input", set);
  set();
  /** @type {HTMLElement | null} */
  let toggle = null;
  if (changes) {
    const btn = h("button", { type: "button", class: "btn btn-small", "aria-pressed": "false", text: "Show changes" });
    btn.addEventListener("click", () => {
      const on = btn.getAttribute("aria-pressed") !== "true";
      btn.setAttribute("aria-pressed", String(on));
      changes.hidden = !on;
    });
    toggle = btn;
  }
  return h("div", { class: "compare-wrap" }, box, toggle);
}

/**
 * @param {string} name icon name
 * @param {string} aria accessible name
 * @param {string} title tooltip
 * @param {() => void | Promise<void>} onClick
 */
export function iconButton(name, aria, title, onClick) {
  const b = h("button", { type: "button", class: "btn-icon", "aria-label": aria, title }, icon(name));
  b.addEventListener("click", () => void onClick());
  return b;
}
