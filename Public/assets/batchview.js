// @ts-check
// One batch: progress counts and cost (polled while it runs), cancel / retry failed / delete, a link to its
// jobs in History, and the compare grid paged 100 jobs at a time (a 10,000-row batch is never loaded whole).
import { h, clear, formatUsd, formatInt, reportError, toast, confirmDialog, nextId } from "./ui.js";
import { batchApi } from "./batchapi.js";
import { renderCompareGrid, gridAxes } from "./comparegrid.js";

/** @typedef {import("./batchapi.js").Batch} Batch @typedef {import("./batchapi.js").BatchJob} BatchJob */

const PAGE = 100;
const finished = (/** @type {Batch} */ b) => b.counts.queued === 0 && b.counts.running === 0;

/**
 * Shows batch `id` in `root` until `stop` is called.
 * @param {HTMLElement} root @param {string} id @param {() => void} onDeleted
 * @param {() => void} [onSettled] called when the batch has nothing queued or running any more
 * @returns {Promise<() => void>}
 */
export async function showBatch(root, id, onDeleted, onSettled = () => {}) {
  let batch = await batchApi.get(id);
  /** cursors of the pages before the current one; the current page's cursor */
  /** @type {(string | null)[]} */
  const before = [];
  /** @type {string | null} */
  let cursor = null;
  /** @type {string | null} */
  let next = null;
  /** @type {BatchJob[]} */
  let jobs = [];
  let timer = 0;
  const uid = nextId("bv");
  const axes = gridAxes(batch);
  const axisSelect = (/** @type {string} */ name, /** @type {number} */ pick) => h("select", { id: `${uid}-${name}`, name },
    h("option", { value: "", text: "—" }), ...axes.map((a, i) => h("option", { value: a, text: a, selected: i === pick })));
  const rowAxis = axisSelect("rows", 0);
  const colAxis = axisSelect("columns", 1);
  const summary = h("p", { id: "batch-summary", role: "status" });
  const grid = h("div", { id: "batch-grid" });
  const pageInfo = h("span", { id: "batch-page" });
  const prev = h("button", { type: "button", class: "btn btn-small", text: "← Previous", onclick: () => void turn(-1) });
  const more = h("button", { type: "button", class: "btn btn-small", text: "Next →", onclick: () => void turn(1) });
  const act = (/** @type {string} */ text, /** @type {() => Promise<unknown>} */ fn) =>
    h("button", { type: "button", class: "btn btn-small", text, onclick: async () => {
      try { await fn(); } catch (e) { reportError(e, root, text); }
    } });
  clear(root);
  root.append(summary,
    h("p", { class: "batch-actions" },
      act("Cancel", async () => { batch = await batchApi.cancel(id); await refresh(); }),
      act("Retry failed", async () => { batch = await batchApi.retry(id); await refresh(); poll(); }),
      act("Delete", async () => {
        if (!(await confirmDialog({ title: "Delete this batch?", body: "Its jobs and images are deleted too.", confirm: "Delete", danger: true }))) return;
        await batchApi.remove(id);
        stop();
        toast("Batch deleted", "success");
        onDeleted();
      }),
      h("a", { href: `/#/history?batch=${encodeURIComponent(id)}`, id: "batch-history-link", text: "Show in History" }),
      h("a", { href: `/v1/batches/${encodeURIComponent(id)}/archive`, id: "batch-archive-link", download: "", text: "Download ZIP" })),
    h("div", { class: "accounts-columns" },
      h("div", { class: "field" }, h("label", { for: rowAxis.id, text: "Grid rows" }), rowAxis),
      h("div", { class: "field" }, h("label", { for: colAxis.id, text: "Grid columns" }), colAxis)),
    grid, h("p", { class: "batch-pager" }, prev, " ", pageInfo, " ", more));
  for (const s of [rowAxis, colAxis]) s.addEventListener("change", draw);

  function draw() {
    const c = batch.counts;
    root.dataset.status = batch.status;
    // Mode openai_batch: the OpenAI batch's own state (validating, in_progress, finalizing, …) beside the batch's.
    const upstream = batch.upstream_status ? ` (OpenAI: ${batch.upstream_status.replace("_", " ")})` : "";
    summary.textContent = `${batch.name} · ${batch.mode === "openai_batch" ? "OpenAI Batch" : "live"} · ${batch.status}${upstream} · ` +
      `${formatInt(c.succeeded)} succeeded, ${formatInt(c.failed)} failed, ${formatInt(c.canceled)} canceled, ` +
      `${formatInt(c.running)} running, ${formatInt(c.queued)} queued of ${formatInt(c.total)} · ` +
      `cost ${formatUsd(batch.cost_usd)} of ${formatUsd(batch.estimated_cost_usd)} estimated`;
    renderCompareGrid(grid, jobs, rowAxis.value || null, colAxis.value || null);
    const first = before.length * PAGE + 1;
    pageInfo.textContent = jobs.length ? `Jobs ${formatInt(first)}–${formatInt(first + jobs.length - 1)} of ${formatInt(c.total)}` : "No jobs";
    prev.disabled = before.length === 0;
    more.disabled = next === null;
  }

  async function refresh() {
    // The batch first, then its jobs: once the counts say finished, the jobs read after them are finished too
    // (read together, a job page older than the counts left a finished batch's grid showing "running").
    const b = await batchApi.get(id);
    const page = await batchApi.jobs(id, cursor, PAGE);
    batch = b;
    jobs = page.data;
    next = page.next_cursor;
    draw();
  }

  /** @param {1 | -1} step */
  async function turn(step) {
    if (step === 1 && next !== null) { before.push(cursor); cursor = next; }
    if (step === -1 && before.length) cursor = before.pop() ?? null;
    try { await refresh(); } catch (e) { reportError(e, root, "Load jobs"); }
  }

  function poll() {
    clearTimeout(timer);
    if (finished(batch)) { onSettled(); return; }
    timer = window.setTimeout(async () => {
      try { await refresh(); } catch (e) { reportError(e, root, "Progress"); }
      poll();
    }, 1500);
  }

  function stop() { clearTimeout(timer); }

  await refresh();
  poll();
  return stop;
}
