// @ts-check
// Compare grid: one page of a batch's jobs as a table, rows × columns chosen from the batch's variables and
// swept options; each cell shows the image thumbnail, the time it took and its cost.
import { thumbnailUrl, api } from "./api.js";
import { h, clear, formatUsd, reportError } from "./ui.js";

/** @typedef {import("./batchapi.js").BatchJob} BatchJob @typedef {import("./batchapi.js").Batch} Batch */

/**
 * The keys a grid can be laid out by: the batch's variables, then its swept options.
 * @param {Batch} batch
 */
export function gridAxes(batch) {
  return [...batch.variables, ...Object.keys(batch.sweep).filter((k) => !batch.variables.includes(k))];
}

/**
 * A job's value for an axis: its row's variable, else its generate option.
 * @param {BatchJob} job @param {string} key
 */
export function axisValue(job, key) {
  const v = job.batch?.variables?.[key] ?? job.params[key];
  return v === undefined || v === null ? "—" : String(v);
}

/**
 * @param {HTMLElement} root
 * @param {BatchJob[]} jobs
 * @param {string | null} rowKey
 * @param {string | null} colKey
 */
export function renderCompareGrid(root, jobs, rowKey, colKey) {
  clear(root);
  const value = (/** @type {BatchJob} */ j, /** @type {string | null} */ k) => (k ? axisValue(j, k) : "");
  const rows = [...new Set(jobs.map((j) => rowKey ? value(j, rowKey) : `#${(j.batch?.index ?? 0) + 1}`))];
  const cols = [...new Set(jobs.map((j) => value(j, colKey)))];
  const table = h("table", { class: "compare-grid", id: "compare-grid" },
    h("caption", { class: "visually-hidden", text: `Results by ${rowKey ?? "job"}${colKey ? ` and ${colKey}` : ""}` }),
    h("thead", null, h("tr", null, h("th", { scope: "col", text: rowKey ?? "Job" }),
      ...cols.map((c) => h("th", { scope: "col", text: colKey ? c : "Result" })))),
    h("tbody", null, ...rows.map((r) => h("tr", null, h("th", { scope: "row", text: r }),
      ...cols.map((c) => h("td", null, ...jobs
        .filter((j) => (rowKey ? value(j, rowKey) : `#${(j.batch?.index ?? 0) + 1}`) === r && value(j, colKey) === c)
        .map(cell)))))));
  root.append(h("div", { class: "compare-scroll", tabindex: 0, role: "region", "aria-label": "Compare grid" }, table));
}

/** @param {BatchJob} job */
function cell(job) {
  const image = job.images[0];
  const seconds = job.started_at && job.finished_at ? (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000 : null;
  const label = `${job.params.prompt} (${job.status})`;
  return h("figure", { class: "compare-cell", dataset: { jobId: job.id, status: job.status } },
    image
      ? h("a", { href: `/#/job/${encodeURIComponent(job.id)}` }, h("img", { src: thumbnailUrl(image.id), alt: job.params.prompt, loading: "lazy", width: 160 }))
      : h("div", { class: "compare-placeholder", role: "img", "aria-label": label, text: job.status }),
    h("figcaption", null,
      h("span", { class: "compare-time", text: seconds === null ? "—" : `${seconds.toFixed(1)} s` }), " · ",
      h("span", { class: "compare-cost", text: formatUsd(job.cost_usd ?? job.estimated_cost_usd) })),
    image ? h("div", { class: "compare-actions" }, winnerToggle(job),
      h("a", { class: "btn btn-small", href: `/#/edit?image_id=${encodeURIComponent(image.id)}`, text: "Use as input",
        "aria-label": `Use ${job.params.prompt} as input` })) : null);
}

/**
 * Pick (or unpick) a winner: kept as the job's favourite, so it stays in History's favourites.
 * @param {BatchJob} job
 */
function winnerToggle(job) {
  const button = h("button", { type: "button", class: "btn btn-small compare-winner", "aria-pressed": String(job.favorite),
    text: job.favorite ? "★ Winner" : "☆ Pick", "aria-label": `Winner: ${job.params.prompt}` });
  button.addEventListener("click", async () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    try {
      const saved = await api.favorite(job.id, next);
      job.favorite = saved.favorite;
      button.setAttribute("aria-pressed", String(saved.favorite));
      button.textContent = saved.favorite ? "★ Winner" : "☆ Pick";
    } catch (e) {
      reportError(e, button, "Winner");
    }
  });
  return button;
}
