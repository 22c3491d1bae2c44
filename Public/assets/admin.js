// @ts-check
// Admin: kill switch, global cap, retention; spend per user per day (plain SVG); users; model registry overrides.
import { ApiError, byId, call, el, say, session } from "./accountapi.js";
import { loadUpstream } from "./adminupstream.js";

/** @typedef {{ id: string, email: string, role: string, verified: boolean, daily_cap_usd: number | null,
 *   monthly_cap_usd: number | null, requests_per_minute: number | null, images_per_minute: number | null }} User */
/** @typedef {{ text_input: number | null, image_input: number | null, image_output: number | null, text_output: number | null }} Prices */
/** @typedef {{ id: string, display_name: string, enabled: boolean, default: boolean, overridden: boolean, prices_per_million: Prices }} AdminModel */
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
    const swatch = el("span", { class: "accounts-swatch", style: `background:${colour}` });
    legend.append(el("span", {}, swatch, `${series.email ?? series.owner}: $${series.amounts_usd.reduce((a, b) => a + b, 0).toFixed(2)}`));
  });
  byId("chart", HTMLElement).replaceChildren(chart);
}

async function loadSettings() {
  /** @type {{ kill_switch: boolean, kill_switch_forced: boolean, global_daily_cap_usd: number | null, retention_days: number }} */
  const settings = await call("GET", "/v1/admin/settings");
  const form = byId("settings", HTMLFormElement);
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  field("kill_switch").checked = settings.kill_switch;
  field("global_daily_cap_usd").value = settings.global_daily_cap_usd === null ? "" : String(settings.global_daily_cap_usd);
  field("retention_days").value = String(settings.retention_days);
  byId("forced", HTMLElement).hidden = !settings.kill_switch_forced;
}

async function loadUsers() {
  /** @type {{ data: User[] }} */
  const page = await call("GET", "/v1/admin/users");
  byId("users", HTMLTableSectionElement).replaceChildren(...page.data.map((user) => {
    const role = /** @type {HTMLSelectElement} */ (el("select", {}, el("option", { value: "member" }, "member"), el("option", { value: "admin" }, "admin")));
    role.value = user.role;
    const verified = /** @type {HTMLInputElement} */ (el("input", { type: "checkbox" }));
    verified.checked = user.verified;
    const daily = numberInput(user.daily_cap_usd, "0.01"), monthly = numberInput(user.monthly_cap_usd, "0.01");
    const rpm = numberInput(user.requests_per_minute, "1"), ipm = numberInput(user.images_per_minute, "1");
    const save = el("button", { class: "btn btn-small", type: "button" }, "Save");
    save.addEventListener("click", async () => {
      try {
        await call("PATCH", `/v1/admin/users/${encodeURIComponent(user.id)}`, {
          role: role.value, verified: verified.checked, daily_cap_usd: numberOrNull(daily), monthly_cap_usd: numberOrNull(monthly),
          requests_per_minute: numberOrNull(rpm), images_per_minute: numberOrNull(ipm),
        });
        say(status, `Saved ${user.email}.`);
      } catch (error) {
        report(error);
      }
    });
    return el("tr", {}, el("td", {}, user.email), el("td", {}, role), el("td", {}, verified), el("td", {}, daily),
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

byId("settings", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  try {
    await call("PUT", "/v1/admin/settings", {
      kill_switch: field("kill_switch").checked, global_daily_cap_usd: numberOrNull(field("global_daily_cap_usd")),
      retention_days: Number(field("retention_days").value || 0),
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
  await Promise.all([loadSettings(), loadUsers(), loadModels(), call("GET", "/v1/admin/spend?days=30").then(drawChart),
    loadUpstream(report)]);
}).catch(report);
