// @ts-check
// Models that shut down soon (the `deprecations` of GET /v1/models): one banner in the studio and on the admin
// page, and the model a re-run or "Use as input" switches to once a job's model has shut down.

/** @typedef {import("./api.js").Deprecation} Deprecation */
/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./api.js").JobParams} JobParams */

/** @param {Deprecation} d */
const when = (d) => (d.days_left === 1 ? "tomorrow" : `in ${d.days_left} days`);

/**
 * Shows the banner while any model is due to shut down (hidden otherwise).
 * @param {HTMLElement} banner @param {Deprecation[] | undefined} list
 */
export function showDeprecations(banner, list) {
  const due = list || [];
  banner.hidden = due.length === 0;
  banner.textContent = due.length === 0 ? "" : "Model shutdown: " + due.map((d) =>
    `${d.model} shuts down on ${d.shutdown_date} (${when(d)})${d.replacement ? `; use ${d.replacement} instead` : ""}.`).join(" ");
}

/**
 * A job's parameters for a model that is still served: the same model, or its replacement once it has shut down
 * (with the note to show). Options the replacement does not offer are left to its defaults.
 * @param {ModelList} list @param {JobParams} params
 * @returns {{ params: JobParams, note: string | null }}
 */
export function liveParams(list, params) {
  if (list.data.some((m) => m.id === params.model)) return { params, note: null };
  const retired = list.retired.find((r) => r.id === params.model);
  const replacement = list.data.find((m) => m.id === retired?.replacement) ||
    list.data.find((m) => m.id === list.default_model) || list.data[0];
  if (!replacement) return { params, note: null };
  /** @type {JobParams} */
  const next = { ...params, model: replacement.id };
  /** @type {[string, string[]][]} */
  const lists = [["quality", replacement.qualities], ["background", replacement.backgrounds],
    ["output_format", replacement.output_formats], ["moderation", replacement.moderations],
    ["complexity", replacement.complexities], ["input_fidelity", replacement.input_fidelities]];
  for (const [key, allowed] of lists) if (next[key] != null && !allowed.includes(String(next[key]))) next[key] = null;
  const on = retired ? ` on ${retired.retired_on}` : "";
  return { params: next, note: `${params.model} was shut down${on}; using ${replacement.id} instead.` };
}
