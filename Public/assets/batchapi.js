// @ts-check
// The /v1/batches calls of the batch page (docs/API.md, "Batches").
import { request } from "./api.js";

/**
 * @typedef {{ total: number, queued: number, running: number, succeeded: number, failed: number, canceled: number }} BatchCounts
 * @typedef {{
 *   id: string, name: string, mode: "live" | "openai_batch", status: string, prompt: string,
 *   options: Record<string, unknown>, sweep: Record<string, string[]>, variables: string[], counts: BatchCounts,
 *   estimated_cost_usd: number, cost_usd: number, upstream_batch_id: string | null, upstream_status: string | null,
 *   created_at: string, updated_at: string
 * }} Batch
 * @typedef {{ row: number | null, field: string | null, code: string, message: string }} BatchRowError
 * @typedef {{ valid: boolean, jobs: number, rows: number, estimated_cost_usd: number, errors: BatchRowError[], error_count: number }} BatchCheck
 * @typedef {{ id: string, index: number, row: number, variables: Record<string, string> }} BatchLink
 * @typedef {import("./api.js").Job & { batch?: BatchLink | null }} BatchJob
 * @typedef {Record<string, unknown>} BatchBody
 */

const path = (/** @type {string} */ id) => `/v1/batches/${encodeURIComponent(id)}`;

export const batchApi = {
  /** @param {BatchBody} body @param {AbortSignal} [signal] @returns {Promise<BatchCheck>} */
  validate: (body, signal) => request("POST", "/v1/batches/validate", { json: body, signal }),
  /** @param {BatchBody} body @returns {Promise<Batch>} */
  create: (body) => request("POST", "/v1/batches", { json: body }),
  /** @returns {Promise<{ data: Batch[], next_cursor: string | null }>} */
  list: () => request("GET", "/v1/batches", { query: { limit: 50 } }),
  /** @param {string} id @returns {Promise<Batch>} */
  get: (id) => request("GET", path(id)),
  /**
   * One page of the batch's jobs in batch order.
   * @param {string} id @param {string | null} cursor @param {number} limit
   * @returns {Promise<{ data: BatchJob[], next_cursor: string | null }>}
   */
  jobs: (id, cursor, limit) => request("GET", `${path(id)}/jobs`, { query: { limit, cursor } }),
  /** @param {string} id @returns {Promise<Batch>} */
  cancel: (id) => request("POST", `${path(id)}/cancel`),
  /** @param {string} id @returns {Promise<Batch>} */
  retry: (id) => request("POST", `${path(id)}/retry`),
  /** @param {string} id */
  remove: (id) => request("DELETE", path(id), { expect: "none" }),
};
