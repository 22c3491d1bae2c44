// @ts-check
// Job detail (#/job/{id}): full image, requested vs actual parameters, usage and cost, actions.
import { api, isFinished } from "./api.js";
import { watchJob } from "./events.js";
import { handoff, loadModels, navigate } from "./state.js";
import { liveParams } from "./deprecations.js";
import { outputsOf, changesFor, statusPill, compareView, fileName } from "./jobview.js";
import {
  h, icon, fadeImg, formatUsd, formatInt, formatDate, confirmDialog, reportError, toast, copyText, announce,
} from "./ui.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */

/** @type {HTMLElement} */
let root;
/** @type {{ close: () => void } | null} */
let watcher = null;
let showing = "";
let selectedIndex = 0;

/** @param {HTMLElement} panel */
export function mount(panel) {
  root = panel;
}

/** @param {string} id @param {URLSearchParams} _query */
export function show(id, _query) {
  watcher?.close();
  watcher = null;
  showing = id;
  selectedIndex = 0;
  root.replaceChildren(skeleton());
  root.setAttribute("aria-busy", "true");
  api.job(id).then((job) => {
    if (showing !== id) return;
    root.removeAttribute("aria-busy");
    render(job);
    if (!isFinished(job)) {
      watcher = watchJob(id, { onUpdate: (j) => showing === id && render(j) });
    }
  }).catch((e) => {
    if (showing !== id) return;
    root.removeAttribute("aria-busy");
    root.replaceChildren(h("div", { class: "screen" }, backLink(), h("div", { class: "empty" },
      h("div", { class: "empty-art", "aria-hidden": "true" }, icon("image")),
      h("h2", { text: "Job not found" }),
      h("p", { text: e instanceof Error ? e.message : String(e) }),
      h("a", { class: "btn", href: "#/history", text: "Back to history" }))));
  });
}

export function hide() {
  watcher?.close();
  watcher = null;
  showing = "";
}

function backLink() {
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/history", class: "link-back" }, icon("left"), "History"));
}

function skeleton() {
  return h("div", { class: "screen" }, backLink(),
    h("div", { class: "detail-layout" },
      h("div", { class: "detail-media" }, h("div", { class: "media-box skeleton", style: { aspectRatio: "1 / 1" } })),
      h("div", { class: "card detail-side" }, ...Array.from({ length: 6 }, () => h("div", { class: "skeleton-line" })))));
}

/** @param {Job} job */
function render(job) {
  const outs = outputsOf(job);
  if (selectedIndex >= outs.length) selectedIndex = 0;
  const img = outs[selectedIndex] || null;
  const base = (job.inputs || []).find((i) => i.role === "input") || null;
  const changes = img ? changesFor(job, img) : null;

  /** @type {HTMLElement} */
  let media;
  if (img && job.kind === "edit" && base) {
    media = compareView(base.url, img.url, `${img.width} / ${img.height}`, changes ? changes.url : null);
  } else if (img) {
    media = h("a", { class: "media-box detail-image", href: img.url, target: "_blank", rel: "noopener", style: { aspectRatio: `${img.width} / ${img.height}` }, "aria-label": "Open full size" },
      fadeImg(img.url, job.params.prompt || "Image"));
  } else {
    const partial = (job.partials || []).slice(-1)[0];
    const aspect = /^(\d+)x(\d+)$/.test(job.params.size) ? job.params.size.replace("x", " / ") : "1 / 1";
    media = h("div", { class: `media-box detail-image ${isFinished(job) ? "tile-empty" : "skeleton"}`, style: { aspectRatio: aspect } },
      partial ? fadeImg(partial.url, "Preview", "partial") : null,
      h("span", { class: "tile-status", text: job.status === "failed" ? job.error?.message || "Failed" : job.status === "canceled" ? "Canceled" : "Rendering…" }));
  }

  const strip = outs.length > 1 ? h("div", { class: "strip", role: "group", "aria-label": "Images of this job" }, ...outs.map((o, i) => {
    const b = h("button", { type: "button", class: "strip-item", "aria-pressed": String(i === selectedIndex), "aria-label": `Image ${i + 1}` },
      h("img", { src: o.thumbnail_url, alt: "", loading: "lazy" }));
    b.addEventListener("click", () => {
      selectedIndex = i;
      render(job);
    });
    return b;
  })) : null;

  const inputs = (job.inputs || []).length ? h("section", { class: "inputs" },
    h("h2", { class: "h-small", text: "Inputs" }),
    h("div", { class: "strip" }, ...(job.inputs || []).map((i) => h("a", { href: i.url, target: "_blank", rel: "noopener", class: "strip-item", title: `${i.role} ${i.width}×${i.height}` },
      h("img", { src: i.thumbnail_url, alt: `${i.role} ${i.index + 1}`, loading: "lazy" }))))) : null;

  // Actions
  const actions = h("div", { class: "detail-actions" });
  if (img) {
    actions.append(h("a", { class: "btn btn-primary", href: `${img.url}?download=1`, download: fileName(job, img) }, icon("download"), "Download"));
  }
  const fav = h("button", { type: "button", class: "btn", "aria-pressed": String(!!job.favorite) }, icon("star"), job.favorite ? "Favourite" : "Add to favourites");
  fav.addEventListener("click", async () => {
    try {
      const j = await api.favorite(job.id, !job.favorite);
      handoff.historyDirty = true;
      render(j);
      announce(j.favorite ? "Added to favourites" : "Removed from favourites");
    } catch (e) {
      reportError(e, root, "Favourite");
    }
  });
  actions.append(fav);
  if (img) {
    const use = h("button", { type: "button", class: "btn" }, icon("edit"), "Use as input");
    use.addEventListener("click", async () => {
      handoff.editImages = [img];
      const live = liveParams(await loadModels(), job.params);
      if (live.note) {
        handoff.editModel = live.params.model;
        toast(live.note, "info");
      }
      navigate("#/edit");
    });
    actions.append(use);
  }
  const rerunBtn = h("button", { type: "button", class: "btn" }, icon("rerun"), "Re-run");
  rerunBtn.addEventListener("click", () => void rerun(job, rerunBtn));
  actions.append(rerunBtn);
  const copy = h("button", { type: "button", class: "btn" }, icon("copy"), "Copy parameters");
  copy.addEventListener("click", async () => {
    await copyText(JSON.stringify({ ...job.params, result: job.result }, null, 2));
    toast("Parameters copied", "success");
  });
  actions.append(copy);
  if (isFinished(job)) {
    const del = h("button", { type: "button", class: "btn btn-danger-ghost" }, icon("trash"), "Delete");
    del.addEventListener("click", () => void remove(job));
    actions.append(del);
  } else {
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel job");
    cancel.addEventListener("click", async () => {
      try {
        render(await api.cancel(job.id));
      } catch (e) {
        reportError(e, root, "Cancel");
      }
    });
    actions.append(cancel);
  }

  const side = h("aside", { class: "card detail-side", "aria-label": "Job information" },
    h("div", { class: "detail-status" }, statusPill(job.status), h("span", { class: "kind", text: job.kind })),
    h("h1", { class: "detail-prompt", text: job.params.prompt || (job.kind === "mask" ? "Auto mask" : "Untitled") }),
    job.error ? h("p", { class: "job-error", text: `${job.error.message} (${job.error.code})` }) : null,
    actions,
    paramsTable(job),
    usageTable(job),
    h("dl", { class: "meta-list" },
      ...meta("Created", formatDate(job.created_at)),
      ...meta("Finished", formatDate(job.finished_at)),
      ...meta("Attempts", String(job.attempts ?? "—")),
      ...meta("Request id", job.upstream_request_id || "—"),
      ...meta("Job id", job.id)));

  root.replaceChildren(h("div", { class: "screen" }, backLink(),
    h("div", { class: "detail-layout" }, h("div", { class: "detail-media" }, media, strip, inputs), side)));
}

/** @param {string} k @param {string} v */
function meta(k, v) {
  return [h("dt", { text: k }), h("dd", { text: v })];
}

/** @param {unknown} v */
const show_ = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

/** @param {Job} job */
function paramsTable(job) {
  const p = job.params;
  const r = /** @type {Record<string, unknown>} */ (job.result || {});
  const keys = ["model", "size", "quality", "background", "output_format", "output_compression", "n", "moderation", "complexity", "partial_images", "input_fidelity"];
  const names = /** @type {Record<string, string>} */ ({
    model: "Model", size: "Size", quality: "Quality", background: "Background", output_format: "Format",
    output_compression: "Compression", n: "Images", moderation: "Moderation", complexity: "Complexity",
    partial_images: "Previews", input_fidelity: "Input fidelity",
  });
  const rows = keys.filter((k) => k in r || (p[k] !== null && p[k] !== undefined)).map((k) => {
    const req = show_(p[k]);
    const act = k in r ? show_(r[k]) : "";
    const differs = act && act !== req;
    return h("tr", { class: differs ? "differs" : "" },
      h("th", { scope: "row", text: names[k] || k }), h("td", { text: req }), h("td", { text: act || "" }));
  });
  return h("table", { class: "kv" },
    h("caption", { text: "Parameters" }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "" }), h("th", { scope: "col", text: "Requested" }), h("th", { scope: "col", text: "Actual" }))),
    h("tbody", {}, ...rows));
}

/** @param {Job} job */
function usageTable(job) {
  const u = job.usage;
  const rows = [
    ["Input tokens", u ? `${formatInt(u.input_tokens)} (${formatInt(u.input_text_tokens)} text, ${formatInt(u.input_image_tokens)} image)` : "—"],
    ["Output tokens", u ? `${formatInt(u.output_tokens)} (${formatInt(u.output_image_tokens)} image)` : "—"],
    ["Cost", formatUsd(job.cost_usd)],
    ["Estimated", formatUsd(job.estimated_cost_usd)],
  ];
  return h("table", { class: "kv" }, h("caption", { text: "Usage and cost" }),
    h("tbody", {}, ...rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k }), h("td", { text: v, colspan: "2" })))));
}

/** @param {Job} job @param {HTMLButtonElement} btn */
async function rerun(job, btn) {
  btn.disabled = true;
  try {
    const live = liveParams(await loadModels(), job.params);
    if (live.note) toast(live.note, "info");
    /** @type {Record<string, string | number | boolean>} */
    const params = {};
    for (const [k, v] of Object.entries(live.params)) {
      if (v !== null && v !== undefined && v !== "" && typeof v !== "object") params[k] = /** @type {string | number | boolean} */ (v);
    }
    /** @type {Job} */
    let nj;
    if (job.kind === "generate") {
      nj = await api.generate(params);
    } else {
      const fd = new FormData();
      if (job.kind === "mask") {
        const input = (job.inputs || []).find((i) => i.role === "input");
        if (input) fd.append("image_id", input.id);
        fd.append("subject", job.params.prompt || "");
        nj = await api.autoMask(fd);
      } else {
        for (const [k, v] of Object.entries(params)) fd.append(k, String(v));
        for (const i of job.inputs || []) {
          if (i.role === "mask") fd.append("mask_id", i.id);
          else if (i.role === "input") fd.append("image_id", i.id);
        }
        nj = await api.edit(fd);
      }
    }
    handoff.historyDirty = true;
    toast("Re-run started", "success");
    navigate(`#/job/${encodeURIComponent(nj.id)}`);
  } catch (e) {
    reportError(e, root, "Re-run failed");
  } finally {
    btn.disabled = false;
  }
}

/** @param {Job} job */
async function remove(job) {
  const ok = await confirmDialog({
    title: "Delete this job?", body: "Its images are removed from storage. This cannot be undone.", confirm: "Delete", danger: true,
  });
  if (!ok) return;
  try {
    await api.deleteJob(job.id);
    handoff.historyDirty = true;
    toast("Job deleted", "success");
    navigate("#/history");
  } catch (e) {
    reportError(e, root, "Delete failed");
  }
}
