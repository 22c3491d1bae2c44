// @ts-check
// A live job card (used by Generate and Edit): reserved-aspect placeholders, live status and partial
// previews over SSE, then the images with their actions. Also the before/after compare widget.
import { api, isFinished } from "./api.js";
import { watchJob } from "./events.js";
import { handoff, navigate } from "./state.js";
import { h, icon, fadeImg, aspectOf, formatUsd, copyText, toast, announce, relativeTime, reportError } from "./ui.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */

const STATUS_TEXT = /** @type {Record<string, string>} */ ({
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
 * @param {Job} job
 * @param {{ aspect: string, count: number, baseUrl?: string | null, onRerun: (job: Job) => void }} o
 * @returns {{ el: HTMLElement, job: () => Job, destroy: () => void }}
 */
export function createJobCard(job, o) {
  let cur = job;
  const pill = h("span", { class: "pill-slot" });
  const meta = h("span", { class: "job-meta" });
  const actions = h("div", { class: "job-actions" });
  const grid = h("div", { class: "tiles" });
  const errorBox = h("div", { class: "job-error", hidden: true, role: "status" });
  const el = h("article", { class: "job-card", dataset: { jobId: job.id } },
    h("header", { class: "job-head" },
      pill,
      h("p", { class: "job-prompt", text: job.params.prompt || (job.kind === "mask" ? "Auto mask" : "") }),
      meta, actions),
    errorBox, grid);

  /** @type {HTMLElement[]} */
  const tiles = [];
  const count = Math.max(1, o.count);
  for (let i = 0; i < count; i++) {
    const tile = h("div", { class: "tile media-box skeleton", style: { aspectRatio: aspectOf(o.aspect) }, dataset: { index: String(i) } },
      h("span", { class: "tile-status", text: STATUS_TEXT[job.status] }));
    tiles.push(tile);
    grid.append(tile);
  }
  grid.style.setProperty("--cols", String(Math.min(count, 4)));

  let rendered = false;
  /** @param {Job} j */
  const render = (j) => {
    cur = j;
    pill.replaceChildren(statusPill(j.status));
    el.dataset.status = j.status;
    const bits = [j.params.model, j.result?.size || j.params.size];
    const cost = j.cost_usd ?? j.estimated_cost_usd;
    if (cost !== null && cost !== undefined) bits.push((j.cost_usd === null ? "≈ " : "") + formatUsd(cost));
    bits.push(relativeTime(j.created_at));
    meta.textContent = bits.filter(Boolean).join(" · ");

    actions.replaceChildren();
    if (!isFinished(j)) {
      const cancel = h("button", { type: "button", class: "btn btn-small btn-ghost", text: "Cancel" });
      cancel.addEventListener("click", async () => {
        try {
          render(await api.cancel(j.id));
        } catch (e) {
          reportError(e, document, "Cancel failed");
        }
      });
      actions.append(cancel);
    } else if ((j.status === "failed" && j.error?.retryable !== false) || j.status === "canceled") {
      const retry = h("button", { type: "button", class: "btn btn-small", text: "Retry" });
      retry.addEventListener("click", async () => {
        try {
          const nj = await api.retry(j.id);
          render(nj);
          follow();
        } catch (e) {
          reportError(e, document, "Retry failed");
        }
      });
      actions.append(retry);
    }
    actions.append(h("a", { class: "btn btn-small btn-ghost", href: `#/job/${encodeURIComponent(j.id)}`, text: "Details" }));

    if (j.status === "failed" || j.status === "canceled") {
      errorBox.hidden = false;
      errorBox.textContent = j.status === "failed" ? (j.error?.message || "The job failed.") : "This job was canceled.";
      for (const t of tiles) {
        t.classList.remove("skeleton");
        t.classList.add("tile-empty");
        t.replaceChildren(h("span", { class: "tile-status", text: STATUS_TEXT[j.status] }));
      }
      return;
    }
    errorBox.hidden = true;

    if (j.status === "succeeded") {
      if (rendered) return;
      rendered = true;
      const outs = outputsOf(j);
      // Grow or shrink the tile set to the real number of images.
      while (tiles.length < outs.length) {
        const t = h("div", { class: "tile media-box" });
        tiles.push(t);
        grid.append(t);
      }
      tiles.splice(outs.length).forEach((t) => t.remove());
      grid.style.setProperty("--cols", String(Math.min(Math.max(1, outs.length), 4)));
      outs.forEach((img, i) => renderImage(tiles[i], j, img));
      announce(`${outs.length} image${outs.length === 1 ? "" : "s"} ready`);
      return;
    }

    // queued / running: status and the newest partial preview, whose size settles the tiles' shape (a guess
    // until then when the size is `auto`).
    const partial = (j.partials || []).slice(-1)[0];
    tiles.forEach((t, i) => {
      if (partial && partial.width && partial.height) t.style.aspectRatio = `${partial.width} / ${partial.height}`;
      if (t.classList.contains("tile-empty")) {
        t.classList.remove("tile-empty");
        t.classList.add("skeleton");
      }
      const status = /** @type {HTMLElement | null} */ (t.querySelector(".tile-status"));
      const n = (j.partials || []).length;
      const total = Number(j.params.partial_images) || 0;
      const text = j.status === "running" && n ? `Preview ${n} of ${total || n}` : j.waiting ? waitingText(j.waiting) : STATUS_TEXT[j.status];
      if (status) status.textContent = text;
      if (partial && i === 0) {
        let img = /** @type {HTMLImageElement | null} */ (t.querySelector("img.partial"));
        if (!img) {
          img = fadeImg(partial.url, "Preview", "partial");
          t.prepend(img);
        } else if (img.getAttribute("src") !== partial.url) {
          img.src = partial.url;
        }
      }
    });
  };

  /** @param {HTMLElement} tile @param {Job} j @param {ImageInfo} img */
  const renderImage = (tile, j, img) => {
    tile.classList.remove("skeleton");
    tile.classList.add("tile-done");
    tile.style.aspectRatio = `${img.width} / ${img.height}`;
    const changes = changesFor(j, img);
    const base = o.baseUrl || (j.inputs || [])[0]?.url || null;
    /** @type {HTMLElement} */
    let media;
    if (j.kind === "edit" && base) {
      media = compareView(base, img.url, `${img.width} / ${img.height}`, changes ? changes.url : null);
      tile.classList.remove("media-box");
      tile.style.aspectRatio = "";
    } else {
      media = h("a", { href: img.url, target: "_blank", rel: "noopener", class: "tile-link", "aria-label": `Open image ${img.index + 1} full size` },
        fadeImg(img.url, `Generated image ${img.index + 1}: ${j.params.prompt}`, "result"));
    }
    const bar = h("div", { class: "tile-actions" },
      h("a", { class: "btn-icon", href: `${img.url}?download=1`, download: fileName(j, img), title: "Download", "aria-label": `Download image ${img.index + 1}` }, icon("download")),
      iconButton("copy", `Copy parameters of image ${img.index + 1}`, "Copy parameters", async () => {
        await copyText(JSON.stringify({ ...j.params, result: j.result }, null, 2));
        toast("Parameters copied", "success");
      }),
      // Edits take PNG, JPEG or WebP: a GIF or SVG output cannot be the base of one.
      img.format === "gif" || img.format === "svg" ? null : iconButton("edit", `Edit image ${img.index + 1}`, "Edit this", () => {
        handoff.editImages = [img];
        navigate("#/edit");
      }),
      iconButton("rerun", `Re-run with the same parameters`, "Re-run", () => o.onRerun(j)));
    tile.replaceChildren(media, bar);
  };

  /** @type {{ close: () => void } | null} */
  let watcher = null;
  const follow = () => {
    watcher?.close();
    rendered = false;
    watcher = watchJob(cur.id, {
      onUpdate: (j) => render(j),
      onError: (m) => toast(m, "info"),
    });
  };

  render(job);
  if (!isFinished(job)) follow();

  return {
    el,
    job: () => cur,
    destroy: () => watcher?.close(),
  };
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
