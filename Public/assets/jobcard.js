// @ts-check
// A live job card (used by Generate and Edit): reserved-aspect placeholders, live status and partial
// previews over SSE, then the images with their actions.
import { api, isFinished } from "./api.js";
import { watchJob } from "./events.js";
import { handoff, navigate } from "./state.js";
import { h, icon, fadeImg, aspectOf, formatUsd, copyText, toast, announce, relativeTime, reportError } from "./ui.js";
import { STATUS_TEXT, changesFor, compareView, fileName, iconButton, outputsOf, statusPill, waitingText } from "./jobview.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */

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
    meta.textContent = metaText(j);
    actions.replaceChildren(...jobActions(j, render, follow));

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
      outs.forEach((img, i) => renderImage(tiles[i], j, img, o));
      announce(`${outs.length} image${outs.length === 1 ? "" : "s"} ready`);
      return;
    }
    renderProgress(tiles, j);
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
 * Model, size, cost (≈ while estimated) and age of a job.
 * @param {Job} j
 */
function metaText(j) {
  const bits = [j.params.model, j.result?.size || j.params.size];
  const cost = j.cost_usd ?? j.estimated_cost_usd;
  if (cost !== null && cost !== undefined) bits.push((j.cost_usd === null ? "≈ " : "") + formatUsd(cost));
  bits.push(relativeTime(j.created_at));
  return bits.filter(Boolean).join(" · ");
}

/**
 * Cancel while the job runs, Retry when it can be retried, and Details.
 * @param {Job} j
 * @param {(j: Job) => void} render shows the job the server answered with
 * @param {() => void} follow watches the job again after a retry
 * @returns {HTMLElement[]}
 */
function jobActions(j, render, follow) {
  const details = h("a", { class: "btn btn-small btn-ghost", href: `#/job/${encodeURIComponent(j.id)}`, text: "Details" });
  if (!isFinished(j)) {
    const cancel = h("button", { type: "button", class: "btn btn-small btn-ghost", text: "Cancel" });
    cancel.addEventListener("click", async () => {
      try {
        render(await api.cancel(j.id));
      } catch (e) {
        reportError(e, document, "Cancel failed");
      }
    });
    return [cancel, details];
  }
  if ((j.status === "failed" && j.error?.retryable !== false) || j.status === "canceled") {
    const retry = h("button", { type: "button", class: "btn btn-small", text: "Retry" });
    retry.addEventListener("click", async () => {
      try {
        render(await api.retry(j.id));
        follow();
      } catch (e) {
        reportError(e, document, "Retry failed");
      }
    });
    return [retry, details];
  }
  return [details];
}

/**
 * Queued or running: the status and the newest partial preview, whose size settles the tiles' shape (a guess
 * until then when the size is `auto`).
 * @param {HTMLElement[]} tiles
 * @param {Job} j
 */
function renderProgress(tiles, j) {
  const partial = (j.partials || []).slice(-1)[0];
  const n = (j.partials || []).length;
  const total = Number(j.params.partial_images) || 0;
  const text = j.status === "running" && n ? `Preview ${n} of ${total || n}` : j.waiting ? waitingText(j.waiting) : STATUS_TEXT[j.status];
  tiles.forEach((t, i) => {
    if (partial && partial.width && partial.height) t.style.aspectRatio = `${partial.width} / ${partial.height}`;
    if (t.classList.contains("tile-empty")) {
      t.classList.remove("tile-empty");
      t.classList.add("skeleton");
    }
    const status = /** @type {HTMLElement | null} */ (t.querySelector(".tile-status"));
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
}

/**
 * A finished image with its actions (download, copy parameters, edit, re-run); an edit shows before/after.
 * @param {HTMLElement} tile
 * @param {Job} j
 * @param {ImageInfo} img
 * @param {{ baseUrl?: string | null, onRerun: (job: Job) => void }} o
 */
function renderImage(tile, j, img, o) {
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
    h("a", { class: "btn-icon", href: img.url, download: fileName(j, img), title: "Download", "aria-label": `Download image ${img.index + 1}` }, icon("download")),
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
}
