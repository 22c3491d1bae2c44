// @ts-check
// Admin: upstream OpenAI keys by label — a banner when one is stopped (out of quota, refused), the lanes paused
// for the rate limit, the pacing limits, and a Resume button.
import { byId, call, el, say } from "./accountapi.js";

/** @typedef {{ model: string, reason: string | null, wait_seconds: number, images_per_window: number | null,
 *   requests_per_window: number | null }} Lane */
/** @typedef {{ label: string, status: string, message: string | null, changed_at: string | null, lanes: Lane[],
 *   jobs_today: number, cost_today_usd: number }} UpstreamKey */
/** @typedef {{ keys: UpstreamKey[], window_seconds: number, max_wait_seconds: number }} Upstream */

const STATUS = /** @type {Record<string, string>} */ ({
  active: "Active", quota_exhausted: "Out of quota — stopped", refused: "Refused by OpenAI — stopped",
});

/** @param {Lane} lane */
function laneText(lane) {
  const limits = [lane.images_per_window && `${lane.images_per_window} images`, lane.requests_per_window && `${lane.requests_per_window} requests`]
    .filter(Boolean).join(", ");
  const wait = lane.wait_seconds > 0 ? ` — waiting ${Math.ceil(lane.wait_seconds)} s (${lane.reason})` : "";
  return `${lane.model}${limits ? `: ${limits} per window` : ""}${wait}`;
}

/**
 * Fills the "Upstream keys" section and the banner; `report` shows an error.
 * @param {(error: unknown) => void} report
 */
export async function loadUpstream(report) {
  /** @type {Upstream} */
  const upstream = await call("GET", "/v1/admin/upstream");
  const stopped = upstream.keys.filter((key) => key.status !== "active");
  const banner = byId("upstream-banner", HTMLElement);
  banner.hidden = stopped.length === 0;
  say(banner, stopped.map((key) => `Upstream key ${key.label}: ${STATUS[key.status] || key.status}. ${key.message || ""}`).join(" "), true);
  byId("upstream-keys", HTMLTableSectionElement).replaceChildren(...upstream.keys.map((key) => {
    const lanes = el("ul", { class: "accounts-list" }, ...key.lanes.map((lane) => el("li", {}, laneText(lane))));
    const cell = el("td", {});
    if (key.status !== "active") {
      const resume = el("button", { class: "btn btn-small", type: "button" }, "Resume");
      resume.addEventListener("click", async () => {
        try {
          await call("POST", `/v1/admin/upstream/keys/${encodeURIComponent(key.label)}/resume`);
          await loadUpstream(report);
        } catch (error) {
          report(error);
        }
      });
      cell.append(resume);
    }
    return el("tr", {}, el("td", {}, key.label), el("td", {}, STATUS[key.status] || key.status, key.message ? el("br") : "",
      key.message || ""), el("td", {}, `${key.jobs_today} jobs, $${key.cost_today_usd.toFixed(2)}`), el("td", {}, lanes), cell);
  }));
}
