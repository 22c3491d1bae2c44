// @ts-check
// History screen: thumbnail grid with infinite scroll, search, filters, favourites, ZIP of a selection.
import { api } from "./api.js";
import { loadModels, handoff } from "./state.js";
import { outputsOf, statusPill } from "./jobview.js";
import { watchAll, jobProgress } from "./events.js";
import { h, icon, debounce, nextId, reportError, relativeTime, downloadBlob, toast, announce } from "./ui.js";

/** @typedef {import("./api.js").Job} Job */

const PAGE = 24;

/** @type {HTMLElement} */
let root;
/** @type {HTMLUListElement} */
let grid;
/** @type {HTMLElement} */
let sentinel;
/** @type {HTMLElement} */
let emptyState;
/** @type {HTMLElement} */
let selectionBar;
/** @type {HTMLElement} */
let selectionText;
/** @type {HTMLFormElement} */
let filters;
/** @type {string | null} */
let cursor = null;
let done = false;
let loading = false;
let generation = 0;
/** @type {AbortController | null} */
let abort = null;
/** @type {Set<string>} */
const selected = new Set();
let mountedOnce = false;
/** @type {{ close: () => void } | null} */
let live = null;

/** @param {HTMLElement} panel */
export async function mount(panel) {
  root = panel;
  const catalogue = await loadModels().catch(() => null);
  const id = nextId("hist");
  const q = h("input", { type: "search", id: `${id}-q`, name: "q", placeholder: "Search prompts…", autocomplete: "off", enterkeyhint: "search" });
  const model = h("select", { id: `${id}-model`, name: "model" },
    h("option", { value: "", text: "All models" }),
    ...(catalogue ? catalogue.data.map((m) => h("option", { value: m.id, text: m.display_name || m.id })) : []),
    ...(catalogue ? (catalogue.retired || []).map((r) => h("option", { value: r.id, text: `${r.id} (retired)` })) : []));
  const status = h("select", { id: `${id}-status`, name: "status" },
    ...[["", "Any status"], ["succeeded", "Succeeded"], ["running", "Running"], ["queued", "Queued"], ["failed", "Failed"], ["canceled", "Canceled"]]
      .map(([v, t]) => h("option", { value: v, text: t })));
  const since = h("input", { type: "date", id: `${id}-since`, name: "since" });
  const until = h("input", { type: "date", id: `${id}-until`, name: "until" });
  const fav = h("input", { type: "checkbox", id: `${id}-fav`, name: "favorite" });
  const batch = h("input", { type: "text", id: `${id}-batch`, name: "batch", placeholder: "Batch id", autocomplete: "off", spellcheck: false });
  filters = h("form", { class: "card filters", role: "search", "aria-label": "Filter history" },
    h("div", { class: "field field-search" }, h("label", { for: q.id, text: "Search" }), q),
    h("div", { class: "field" }, h("label", { for: model.id, text: "Model" }), model),
    h("div", { class: "field" }, h("label", { for: status.id, text: "Status" }), status),
    h("div", { class: "field" }, h("label", { for: since.id, text: "From" }), since),
    h("div", { class: "field" }, h("label", { for: until.id, text: "To" }), until),
    h("div", { class: "field" }, h("label", { for: batch.id, text: "Batch" }), batch),
    h("div", { class: "field field-check" }, fav, h("label", { for: fav.id, text: "Favourites only" })));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    reload();
  });
  const debounced = debounce(reload, 300);
  q.addEventListener("input", debounced);
  for (const c of [model, status, since, until, fav, batch]) c.addEventListener("change", reload);

  const zipBtn = h("button", { type: "button", class: "btn btn-primary btn-small" }, icon("zip"), "Download ZIP");
  const clearSel = h("button", { type: "button", class: "btn btn-small btn-ghost", text: "Clear selection" });
  selectionText = h("span", { class: "selection-text", "aria-live": "polite" });
  selectionBar = h("div", { class: "selection-bar", hidden: true }, selectionText, h("div", { class: "selection-actions" }, clearSel, zipBtn));
  zipBtn.addEventListener("click", () => void downloadZip(zipBtn));
  clearSel.addEventListener("click", () => {
    selected.clear();
    for (const cb of grid.querySelectorAll("input[type=checkbox]")) /** @type {HTMLInputElement} */ (cb).checked = false;
    for (const li of grid.querySelectorAll(".is-selected")) li.classList.remove("is-selected");
    updateSelection();
  });

  grid = h("ul", { class: "history-grid", "aria-label": "Jobs", "aria-busy": "false" });
  sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  emptyState = h("div", { class: "empty", hidden: true });
  panel.replaceChildren(h("div", { class: "screen" },
    h("h1", { class: "visually-hidden", text: "History" }), filters, selectionBar, grid, emptyState, sentinel));

  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) void loadMore();
  }, { rootMargin: "600px 0px" }).observe(sentinel);
}

/** @returns {{ q?: string, model?: string, status?: string, favorite?: boolean, since?: string, until?: string, batch?: string }} */
function currentFilters() {
  const fd = new FormData(filters);
  /** @param {string} k */
  const s = (k) => String(fd.get(k) || "").trim();
  /** @param {string} d @param {number} addDays */
  const iso = (d, addDays) => {
    if (!d) return undefined;
    const t = new Date(`${d}T00:00:00`);
    t.setDate(t.getDate() + addDays);
    return t.toISOString().replace(/\.\d{3}Z$/, "Z");
  };
  return {
    q: s("q") || undefined, model: s("model") || undefined, status: s("status") || undefined,
    favorite: fd.get("favorite") === "on", since: iso(s("since"), 0), until: iso(s("until"), 1),
    batch: s("batch") || undefined,
  };
}

function reload() {
  generation += 1;
  abort?.abort();
  abort = null;
  cursor = null;
  done = false;
  loading = false;
  grid.replaceChildren();
  emptyState.hidden = true;
  void loadMore();
}

function skeletons() {
  return Array.from({ length: 8 }, () => h("li", { class: "h-card is-skeleton", "aria-hidden": "true" },
    h("div", { class: "h-thumb media-box skeleton" }), h("div", { class: "h-meta" }, h("div", { class: "skeleton-line" }), h("div", { class: "skeleton-line short" }))));
}

async function loadMore() {
  if (loading || done || root.hidden) return;
  loading = true;
  const gen = generation;
  const ctrl = new AbortController();
  abort = ctrl;
  const skel = skeletons();
  grid.append(...skel);
  grid.setAttribute("aria-busy", "true");
  try {
    const page = await api.jobs({ limit: PAGE, cursor, ...currentFilters() }, ctrl.signal);
    if (gen !== generation) return;
    for (const s of skel) s.remove();
    grid.append(...page.data.map(card));
    cursor = page.next_cursor;
    done = !cursor;
    if (!grid.children.length) showEmpty();
  } catch (e) {
    if (gen !== generation) return;
    for (const s of skel) s.remove();
    done = true;
    reportError(e, filters, "Could not load history");
    if (!grid.children.length) showEmpty(true);
  } finally {
    if (gen === generation) {
      loading = false;
      grid.setAttribute("aria-busy", "false");
    }
  }
  // Keep filling while the sentinel is still on screen (tall viewports).
  if (gen === generation && !done) {
    const r = sentinel.getBoundingClientRect();
    if (r.top < window.innerHeight + 600) void loadMore();
  }
}

/** @param {boolean} [failed] */
function showEmpty(failed = false) {
  const f = currentFilters();
  const filtered = !!(f.q || f.model || f.status || f.favorite || f.since || f.until || f.batch);
  emptyState.hidden = false;
  emptyState.replaceChildren(
    h("div", { class: "empty-art", "aria-hidden": "true" }, icon(filtered ? "image" : "sparkle")),
    h("h2", { text: failed ? "History is unavailable" : filtered ? "No matching jobs" : "No images yet" }),
    h("p", { text: failed ? "The server did not answer. Try again in a moment." : filtered ? "Try fewer words or clear the filters." : "Everything you generate or edit shows up here." }),
    failed ? h("button", { type: "button", class: "btn", text: "Retry", onclick: reload })
      : filtered ? h("button", { type: "button", class: "btn", text: "Clear filters", onclick: () => { filters.reset(); reload(); } })
        : h("a", { class: "btn btn-primary", href: "#/generate", text: "Create your first image" }));
}

/** @param {Job} job */
function card(job) {
  // A running job shows its newest partial preview until its outputs arrive.
  const partials = job.partials || [];
  const img = outputsOf(job)[0] || partials[partials.length - 1];
  const label = job.params.prompt || (job.kind === "mask" ? "Auto mask" : "Untitled");
  const favBtn = h("button", {
    type: "button", class: "btn-icon fav", "aria-pressed": String(!!job.favorite),
    "aria-label": `Favourite: ${label.slice(0, 60)}`, title: job.favorite ? "Remove from favourites" : "Add to favourites",
  }, icon("star"));
  favBtn.addEventListener("click", async () => {
    const on = favBtn.getAttribute("aria-pressed") !== "true";
    favBtn.setAttribute("aria-pressed", String(on));
    try {
      const j = await api.favorite(job.id, on);
      favBtn.setAttribute("aria-pressed", String(!!j.favorite));
      favBtn.title = j.favorite ? "Remove from favourites" : "Add to favourites";
      announce(j.favorite ? "Added to favourites" : "Removed from favourites");
    } catch (e) {
      favBtn.setAttribute("aria-pressed", String(!on));
      reportError(e, filters, "Favourite");
    }
  });
  const cbId = nextId("sel");
  const cb = h("input", { type: "checkbox", id: cbId, class: "h-select", checked: selected.has(job.id), disabled: job.status !== "succeeded" });
  const li = h("li", {
    class: `h-card${selected.has(job.id) ? " is-selected" : ""}`,
    dataset: { jobId: job.id, status: job.status, progress: String(jobProgress(job)) },
  });
  cb.addEventListener("change", () => {
    if (cb.checked) selected.add(job.id);
    else selected.delete(job.id);
    li.classList.toggle("is-selected", cb.checked);
    updateSelection();
  });
  const thumb = img
    ? h("img", { src: img.thumbnail_url, alt: "", loading: "lazy", decoding: "async", class: "fade", onload: (/** @type {Event} */ ev) => /** @type {HTMLElement} */ (ev.target).classList.add("loaded") })
    : h("div", { class: `h-placeholder${job.status === "running" || job.status === "queued" ? " skeleton" : ""}` }, icon("image"));
  const count = outputsOf(job).length;
  li.append(
    h("a", { class: "h-thumb media-box", href: `#/job/${encodeURIComponent(job.id)}`, "aria-label": `Open: ${label}` },
      thumb, count > 1 ? h("span", { class: "badge badge-count", text: `${count}` }) : null,
      job.status !== "succeeded" ? h("span", { class: "h-status" }, statusPill(job.status)) : null),
    h("div", { class: "h-meta" },
      h("p", { class: "h-prompt", title: label, text: label }),
      h("p", { class: "h-sub", text: [job.kind === "generate" ? null : job.kind, job.params.model, relativeTime(job.created_at)].filter(Boolean).join(" · ") })),
    h("div", { class: "h-tools" },
      h("label", { for: cbId, class: "h-select-label" }, cb, h("span", { class: "visually-hidden", text: `Select ${label.slice(0, 60)}` })),
      favBtn));
  return li;
}

function updateSelection() {
  selectionBar.hidden = selected.size === 0;
  selectionText.textContent = `${selected.size} selected`;
}

/** @param {HTMLButtonElement} btn */
async function downloadZip(btn) {
  if (!selected.size) return;
  btn.disabled = true;
  btn.classList.add("is-loading");
  try {
    const blob = await api.zip([...selected]);
    downloadBlob(blob, `atelier-${new Date().toISOString().slice(0, 10)}-${selected.size}.zip`);
    toast(`ZIP with ${selected.size} job${selected.size === 1 ? "" : "s"} downloaded`, "success");
  } catch (e) {
    reportError(e, filters, "ZIP download failed");
  } finally {
    btn.disabled = false;
    btn.classList.remove("is-loading");
  }
}

/** @param {string} _arg @param {URLSearchParams} query `?batch=ID` (from a batch's "Show in History") filters by it */
export function show(_arg, query) {
  const batchField = /** @type {HTMLInputElement | null} */ (filters.elements.namedItem("batch"));
  const batch = query.get("batch");
  const batchChanged = batch !== null && batchField !== null && batchField.value !== batch;
  if (batchChanged && batchField) batchField.value = batch ?? "";
  if (!mountedOnce || handoff.historyDirty || batchChanged) {
    mountedOnce = true;
    handoff.historyDirty = false;
    reload();
  } else {
    refreshUnfinished();
  }
  // `data-live` tells (tests, styles) whether the grid is following events right now.
  live ??= watchAll(applyEvent, (connected) => {
    grid.dataset.live = String(connected);
  });
}

export function hide() {
  live?.close();
  live = null;
  grid.dataset.live = "false";
}

/** Cards of jobs that were still running when History was last open catch up (their events went unheard). */
function refreshUnfinished() {
  for (const li of grid.querySelectorAll('li[data-status="queued"], li[data-status="running"]')) {
    const id = /** @type {HTMLElement} */ (li).dataset.jobId;
    if (id) api.job(id).then(redraw, () => {});
  }
}

/**
 * Redraws a job's card in place unless the card already shows a later state; false when it is not in the grid.
 * @param {Job} job
 */
function redraw(job) {
  const existing = /** @type {HTMLElement | null} */ (grid.querySelector(`li[data-job-id="${CSS.escape(job.id)}"]`));
  if (!existing) return false;
  if (Number(existing.dataset.progress || 0) <= jobProgress(job)) existing.replaceWith(card(job));
  return true;
}

/**
 * Keeps the grid current while History is open: a card whose job changed is redrawn in place (status, partial
 * previews, outputs); a new job appears at the top when no filter is set.
 * @param {import("./events.js").JobEvent} ev
 */
function applyEvent(ev) {
  if (redraw(ev.job)) return;
  const f = currentFilters();
  const filtered = !!(f.q || f.model || f.status || f.favorite || f.since || f.until || f.batch);
  if (ev.type === "job.queued" && ev.seq === 1 && !filtered && !loading) {
    grid.prepend(card(ev.job));
    emptyState.hidden = true;
  }
}
