// @ts-check
// Admin: kill switch, cancel all queued, overrun banner, global cap, retention; spend per user per day (plain SVG);
// users (status: approve, suspend); model registry overrides. Pending sign-ups and invitations: adminaccess.js.
import { ApiError, byId, call, el, say, session } from "./accountapi.js";
import { showDeprecations } from "./deprecations.js";
import { loadAccess } from "./adminaccess.js";
import { loadUpstream } from "./adminupstream.js";

/** @typedef {{ id: string, email: string, role: string, verified: boolean, status: string, daily_cap_usd: number | null,
 *   monthly_cap_usd: number | null, requests_per_minute: number | null, images_per_minute: number | null }} User */
/** @typedef {{ text_input: number | null, image_input: number | null, image_output: number | null, text_output: number | null }} Prices */
/** @typedef {{ id: string, display_name: string, enabled: boolean, default: boolean, overridden: boolean, prices_per_million: Prices }} AdminModel */
/** @typedef {{ model: string, field: string, registry: string | null, upstream: string | null }} Change */
/** @typedef {{ new: string[], gone: string[], changed: Change[] }} ModelsCheck */
/** @typedef {{ days: string[], series: { owner: string, email: string | null, amounts_usd: number[] }[], total_usd: number[] }} Spend */

const status = byId("status", HTMLElement);
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#4b55c8", "#1d7a52", "#b42840", "#8f5600", "#0e7490", "#7c3aed", "#be185d", "#4d7c0f"];

/** @param {unknown} error */
function report(error) {
  say(status, error instanceof ApiError ? error.message : "The server could not be reached.", true);
}

/**
 * An <input> for a number or empty.
 * @param {number | null} value
 * @param {string} step
 */
function numberInput(value, step) {
  const input = /** @type {HTMLInputElement} */ (el("input", { type: "number", min: "0", step }));
  input.value = value === null ? "" : String(value);
  return input;
}

/** @param {HTMLInputElement} input */
function numberOrNull(input) {
  return input.value.trim() === "" ? null : Number(input.value);
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 */
function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * Draws one line per user and the total as a dashed line.
 * @param {Spend} spend
 */
function drawChart(spend) {
  const width = 720, height = 240, left = 48, bottom = 24, top = 8;
  const max = Math.max(0.01, ...spend.total_usd, ...spend.series.flatMap((s) => s.amounts_usd));
  const x = (/** @type {number} */ i) => left + (i * (width - left - 8)) / Math.max(1, spend.days.length - 1);
  const y = (/** @type {number} */ v) => top + (height - top - bottom) * (1 - v / max);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "accounts-chart", role: "img",
    "aria-label": "Spend per user per day" });
  for (const fraction of [0, 0.5, 1]) {
    chart.append(svg("line", { x1: left, x2: width - 8, y1: y(max * fraction), y2: y(max * fraction), stroke: "currentColor", "stroke-opacity": 0.15 }));
    const label = svg("text", { x: 4, y: y(max * fraction) + 4 });
    label.textContent = `$${(max * fraction).toFixed(2)}`;
    chart.append(label);
  }
  spend.days.forEach((day, i) => {
    if (i % 7 !== 0 && i !== spend.days.length - 1) return;
    const label = svg("text", { x: x(i) - 16, y: height - 6 });
    label.textContent = day.slice(5);
    chart.append(label);
  });
  /** @param {number[]} values @param {string} colour @param {boolean} dashed */
  const line = (values, colour, dashed) => svg("polyline", {
    points: values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), fill: "none", stroke: colour,
    "stroke-width": 2, ...(dashed ? { "stroke-dasharray": "4 3" } : {}),
  });
  chart.append(line(spend.total_usd, "currentColor", true));
  const legend = byId("legend", HTMLElement);
  legend.replaceChildren(el("span", {}, "- - all users"));
  spend.series.forEach((series, index) => {
    const colour = COLOURS[index % COLOURS.length];
    chart.append(line(series.amounts_usd, colour, false));
    const swatch = el("span", { class: "accounts-swatch" });
    swatch.style.background = colour; // CSSOM, which the Content-Security-Policy allows (a style attribute it would not)
    legend.append(el("span", {}, swatch, `${series.email ?? series.owner}: $${series.amounts_usd.reduce((a, b) => a + b, 0).toFixed(2)}`));
  });
  byId("chart", HTMLElement).replaceChildren(chart);
}

async function loadSettings() {
  /** @type {{ kill_switch: boolean, kill_switch_forced: boolean, global_daily_cap_usd: number | null, retention_days: number,
   *   preview_formats: string[], preview_formats_forced: string[] }} */
  const settings = await call("GET", "/v1/admin/settings");
  const form = byId("settings", HTMLFormElement);
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  field("kill_switch").checked = settings.kill_switch;
  field("global_daily_cap_usd").value = settings.global_daily_cap_usd === null ? "" : String(settings.global_daily_cap_usd);
  field("retention_days").value = String(settings.retention_days);
  byId("forced", HTMLElement).hidden = !settings.kill_switch_forced;
  for (const format of ["gif", "svg"]) {
    const box = field(`preview_${format}`);
    const forced = settings.preview_formats_forced.includes(format);
    box.checked = forced || settings.preview_formats.includes(format);
    box.disabled = forced;
  }
  const forcedNote = byId("preview-forced", HTMLElement);
  forcedNote.hidden = !settings.preview_formats_forced.length;
  forcedNote.textContent = `OPENAI_PREVIEW_FORMATS=${settings.preview_formats_forced.join(",")} keeps these on.`;
}

/** Shows a banner while a settled cost passed a spending cap in the last 24 hours (the money is already spent). */
async function loadOverruns() {
  /** @type {{ data: { job_id: string, subject: string, period: string, cap_usd: number, spent_usd: number }[] }} */
  const page = await call("GET", "/v1/admin/spend/overruns?hours=24");
  const banner = byId("overruns", HTMLElement);
  banner.hidden = page.data.length === 0;
  if (page.data.length === 0) return;
  const worst = page.data[0];
  const whose = worst.subject === "*" ? "the server's daily cap" : `the cap of ${worst.subject} for ${worst.period}`;
  banner.textContent = `Spending passed a cap ${page.data.length} time(s) in the last 24 hours: latest $${worst.spent_usd.toFixed(2)} `
    + `against ${whose} of $${worst.cap_usd.toFixed(2)} (job ${worst.job_id}). The upstream already charged it; `
    + "consider lowering caps or turning on the kill switch.";
}

byId("cancel-queued", HTMLButtonElement).addEventListener("click", async () => {
  if (!confirm("Cancel every queued job, for every user?")) return;
  try {
    /** @type {{ canceled: number }} */
    const result = await call("POST", "/v1/admin/jobs/cancel-queued");
    say(status, `Canceled ${result.canceled} queued job(s).`);
  } catch (error) {
    report(error);
  }
});

async function loadUsers() {
  /** @type {{ data: User[] }} */
  const page = await call("GET", "/v1/admin/users");
  byId("users", HTMLTableSectionElement).replaceChildren(...page.data.map((user) => {
    const role = /** @type {HTMLSelectElement} */ (el("select", {}, el("option", { value: "member" }, "member"), el("option", { value: "admin" }, "admin")));
    role.value = user.role;
    const state = /** @type {HTMLSelectElement} */ (el("select", { "aria-label": `Status of ${user.email}` },
      ...["active", "pending", "suspended"].map((value) => el("option", { value }, value))));
    state.value = user.status;
    const verified = /** @type {HTMLInputElement} */ (el("input", { type: "checkbox" }));
    verified.checked = user.verified;
    const daily = numberInput(user.daily_cap_usd, "0.01"), monthly = numberInput(user.monthly_cap_usd, "0.01");
    const rpm = numberInput(user.requests_per_minute, "1"), ipm = numberInput(user.images_per_minute, "1");
    const save = el("button", { class: "btn btn-small", type: "button" }, "Save");
    save.addEventListener("click", async () => {
      try {
        await call("PATCH", `/v1/admin/users/${encodeURIComponent(user.id)}`, {
          role: role.value, status: state.value, verified: verified.checked, daily_cap_usd: numberOrNull(daily), monthly_cap_usd: numberOrNull(monthly),
          requests_per_minute: numberOrNull(rpm), images_per_minute: numberOrNull(ipm),
        });
        say(status, `Saved ${user.email}.`);
      } catch (error) {
        report(error);
      }
    });
    return el("tr", {}, el("td", {}, user.email), el("td", {}, role), el("td", {}, state), el("td", {}, verified), el("td", {}, daily),
      el("td", {}, monthly), el("td", {}, rpm), el("td", {}, ipm), el("td", {}, save));
  }));
}

async function loadModels() {
  /** @type {{ data: AdminModel[] }} */
  const page = await call("GET", "/v1/admin/models");
  byId("models", HTMLTableSectionElement).replaceChildren(...page.data.map((model) => {
    const enabled = /** @type {HTMLInputElement} */ (el("input", { type: "checkbox" }));
    enabled.checked = model.enabled;
    enabled.disabled = model.default;
    /** @type {(keyof Prices)[]} */
    const keys = ["text_input", "image_input", "image_output", "text_output"];
    const prices = keys.map((key) => numberInput(model.prices_per_million[key], "0.01"));
    const save = el("button", { class: "btn btn-small", type: "button" }, "Save");
    save.addEventListener("click", async () => {
      /** @type {Record<string, number | null>} */
      const body = {};
      keys.forEach((key, index) => { body[key] = numberOrNull(prices[index]); });
      try {
        await call("PATCH", `/v1/admin/models/${encodeURIComponent(model.id)}`, { enabled: enabled.checked, prices_per_million: body });
        say(status, `Saved ${model.id}.`);
      } catch (error) {
        report(error);
      }
    });
    const reset = el("button", { class: "btn btn-ghost btn-small", type: "button" }, "Reset");
    reset.addEventListener("click", async () => {
      try {
        await call("PATCH", `/v1/admin/models/${encodeURIComponent(model.id)}`, { reset: true });
        await loadModels();
      } catch (error) {
        report(error);
      }
    });
    return el("tr", {}, el("td", {}, `${model.display_name} (${model.id})${model.overridden ? " *" : ""}`), el("td", {}, enabled),
      ...prices.map((input) => el("td", {}, input)), el("td", {}, save, reset));
  }));
}

byId("models-check", HTMLButtonElement).addEventListener("click", async (event) => {
  const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
  const result = byId("models-check-result", HTMLUListElement);
  button.disabled = true;
  result.replaceChildren(el("li", {}, "Asking the upstream…"));
  try {
    /** @type {ModelsCheck} */
    const check = await call("GET", "/v1/admin/models/check");
    const lines = [
      ...check.new.map((id) => `New upstream: ${id} (not in the registry)`),
      ...check.gone.map((id) => `Gone upstream: ${id} (still in the registry)`),
      ...check.changed.map((c) => `Changed: ${c.model} ${c.field} — registry ${c.registry ?? "none"}, upstream ${c.upstream ?? "none"}`),
    ];
    result.replaceChildren(...(lines.length ? lines : ["The registry agrees with the upstream's model list."]).map((line) => el("li", {}, line)));
  } catch (error) {
    result.replaceChildren();
    report(error);
  } finally {
    button.disabled = false;
  }
});

byId("settings", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  try {
    await call("PUT", "/v1/admin/settings", {
      kill_switch: field("kill_switch").checked, global_daily_cap_usd: numberOrNull(field("global_daily_cap_usd")),
      retention_days: Number(field("retention_days").value || 0),
      preview_formats: ["gif", "svg"].filter((f) => field(`preview_${f}`).checked && !field(`preview_${f}`).disabled),
    });
    say(status, "Settings saved.");
    await loadSettings();
  } catch (error) {
    report(error);
  }
});

session().then(async (current) => {
  if (!current.authenticated) {
    location.assign(`/login.html?next=${encodeURIComponent("/admin.html")}`);
    return;
  }
  call("GET", "/v1/models").then((list) => showDeprecations(byId("deprecations", HTMLElement), list.deprecations)).catch(report);
  document.addEventListener("users-changed", () => void loadUsers().catch(report));
  await Promise.all([loadSettings(), loadOverruns(), loadUsers(), loadAccess(), loadModels(), call("GET", "/v1/admin/spend?days=30").then(drawChart),
    loadUpstream(report)]);
}).catch(report);
