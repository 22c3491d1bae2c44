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
/** @type {Promise<Status> | null} */
let statusPromise = null;

/** @returns {Promise<ModelList>} */
export function loadModels() {
  if (!modelsPromise) {
    modelsPromise = api.models().catch((e) => {
      modelsPromise = null;
      throw e;
    });
  }
  return modelsPromise;
}

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
