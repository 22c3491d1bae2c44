// @ts-check
// Options of the preview output formats: GIF frames and frame duration, the SVG author model and its reasoning
// effort. Shown only for the format chosen, which is offered only when the model lists it and the server enabled it.
import { h } from "./ui.js";

/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./api.js").JobParams} JobParams */
/** @typedef {import("./api.js").GenerateBody} GenerateBody */

export const FRAMES = { min: 2, max: 16, default: 9 };
export const DURATION = { min: 20, max: 10000, default: 200 };

/** @param {Model} m @param {ModelList} catalogue @returns {string[]} */
export function previewFormatsOf(m, catalogue) {
  const enabled = catalogue.preview_formats_enabled || [];
  return (m.preview_formats || []).filter((f) => enabled.includes(f));
}

/**
 * @param {ModelList} catalogue
 * @param {(name: string, text: string, control: HTMLElement, extra?: HTMLElement | null) => HTMLElement} field
 */
export function createPreviewFields(catalogue, field) {
  const authors = catalogue.svg_authoring?.authors || [];
  const frames = h("input", { type: "number", min: String(FRAMES.min), max: String(FRAMES.max), value: String(FRAMES.default), inputmode: "numeric" });
  const duration = h("input", { type: "number", min: String(DURATION.min), max: String(DURATION.max), step: "10", value: String(DURATION.default), inputmode: "numeric" });
  const author = h("select", {}, h("option", { value: "", text: "Default" }), ...authors.map((a) => h("option", { value: a.id, text: a.id })));
  const effort = h("select", {});
  const fFrames = field("frame_count", "GIF frames", frames);
  const fDuration = field("frame_duration_ms", "Frame duration (ms)", duration);
  const fAuthor = field("svg.model", "SVG author", author);
  const fEffort = field("svg.reasoning.effort", "SVG reasoning", effort);

  const fillEfforts = () => {
    const efforts = authors.find((a) => a.id === author.value)?.reasoning_efforts || [];
    const prev = effort.value;
    effort.replaceChildren(h("option", { value: "", text: "Default" }), ...efforts.map((e) => h("option", { value: e, text: e })));
    if (efforts.includes(prev)) effort.value = prev;
    fEffort.hidden = fAuthor.hidden || !efforts.length;
  };
  author.addEventListener("change", fillEfforts);

  return {
    fields: [fFrames, fDuration, fAuthor, fEffort],
    controls: [frames, duration, author, effort],
    /** @param {string} format */
    apply: (format) => {
      fFrames.hidden = fDuration.hidden = format !== "gif";
      fAuthor.hidden = format !== "svg" || !authors.length;
      fillEfforts();
    },
    /** @param {string} format @returns {{ field: string, message: string } | null} */
    validate: (format) => {
      if (format !== "gif") return null;
      const n = Number(frames.value);
      if (!Number.isInteger(n) || n < FRAMES.min || n > FRAMES.max) return { field: "frame_count", message: `Choose ${FRAMES.min} to ${FRAMES.max} frames.` };
      const d = Number(duration.value);
      if (!Number.isInteger(d) || d < DURATION.min || d > DURATION.max) return { field: "frame_duration_ms", message: `A frame lasts ${DURATION.min} to ${DURATION.max} ms.` };
      return null;
    },
    /** @param {string} format @returns {GenerateBody} */
    params: (format) => {
      if (format === "gif") return { frame_count: Number(frames.value), frame_duration_ms: Number(duration.value) };
      if (format === "svg" && author.value) {
        return { svg: effort.value ? { model: author.value, reasoning: { effort: effort.value } } : { model: author.value } };
      }
      return {};
    },
    /** @param {Partial<JobParams>} p */
    set: (p) => {
      if (typeof p.frame_count === "number") frames.value = String(p.frame_count);
      if (typeof p.frame_duration_ms === "number") duration.value = String(p.frame_duration_ms);
      const svg = /** @type {{ model?: string, reasoning?: { effort?: string } } | undefined} */ (p.svg);
      if (svg && svg.model && authors.some((a) => a.id === svg.model)) {
        author.value = svg.model;
        fillEfforts();
        if (svg.reasoning?.effort) effort.value = svg.reasoning.effort;
      }
    },
  };
}
