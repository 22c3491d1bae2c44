// @ts-check
// App-wide state: server status, the model catalogue, and hand-offs between screens.
import { api } from "./api.js";

/** @typedef {import("./api.js").ModelList} ModelList */
/** @typedef {import("./api.js").Model} Model */
/** @typedef {import("./api.js").Status} Status */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */
/** @typedef {import("./api.js").JobParams} JobParams */

/** @type {Promise<ModelList> | null} */
let modelsPromise = null;
/** When the catalogue was fetched (ms since the epoch) and the UTC day it was fetched on. */
let modelsFetched = { at: 0, day: "" };
/** @type {Promise<Status> | null} */
let statusPromise = null;
/** @type {Set<(list: ModelList) => void>} */
const modelListeners = new Set();

/** A catalogue older than this is fetched again when next asked for (models shut down at the start of a UTC day). */
const MODELS_MAX_AGE_MS = 30 * 60 * 1000;
const utcDay = () => new Date().toISOString().slice(0, 10);

/**
 * The model catalogue (GET /v1/models), fetched once and again when it is older than 30 minutes or a UTC day has
 * begun since: a studio tab left open across a model's shutdown date stops offering it.
 * @returns {Promise<ModelList>}
 */
export function loadModels() {
  const stale = Date.now() - modelsFetched.at > MODELS_MAX_AGE_MS || modelsFetched.day !== utcDay();
  if (!modelsPromise || stale) return refreshModels();
  return modelsPromise;
}

/**
 * Fetches the catalogue now (after the server refused a model as shut down, or when a stale tab is shown again);
 * screens that listen (`onModelsChanged`) get it when it differs from the one they have.
 * @returns {Promise<ModelList>}
 */
export function refreshModels() {
  const previous = modelsPromise;
  modelsFetched = { at: Date.now(), day: utcDay() };
  const next = api.models().catch((e) => {
    modelsFetched = { at: 0, day: "" }; // asked again next time
    if (!previous) {
      modelsPromise = null;
      throw e;
    }
    return previous; // offline for a moment: keep offering what was there
  });
  modelsPromise = next;
  if (previous) {
    void Promise.all([previous.catch(() => null), next.catch(() => null)]).then(([before, after]) => {
      if (after && JSON.stringify(before) !== JSON.stringify(after)) for (const listener of modelListeners) listener(after);
    });
  }
  return next;
}

/** @param {(list: ModelList) => void} listener called with a new catalogue that differs from the last one */
export function onModelsChanged(listener) {
  modelListeners.add(listener);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && modelsPromise) void loadModels().catch(() => {});
});

/** @returns {Promise<Status>} */
export function loadStatus() {
  if (!statusPromise) {
    statusPromise = api.status().catch((e) => {
      statusPromise = null;
      throw e;
    });
  }
  return statusPromise;
}

/**
 * Hand-offs between screens (set by one screen, consumed by the next).
 * `editModel`: the replacement to select in Edit when the job handed over used a model that has shut down.
 * @type {{ editImages: ImageInfo[], editModel: string | null, generateParams: Partial<JobParams> | null, historyDirty: boolean }}
 */
export const handoff = { editImages: [], editModel: null, generateParams: null, historyDirty: false };

/** @param {string} hash */
export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}
