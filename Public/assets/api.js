// @ts-check
// Thin fetch wrapper for the Atelier /v1 API (docs/API.md). Relative URLs only; no secrets.

/**
 * @typedef {{ multiple_of: number, max_edge: number, max_ratio: number, min_pixels: number, max_pixels: number }} FreeSizeRule
 * @typedef {{
 *   id: string, display_name: string, status: "current" | "deprecated", shutdown_date: string | null,
 *   replacement?: string | null, snapshot_of: string | null, endpoints: string[],
 *   sizes: { fixed: string[], auto: boolean, free: FreeSizeRule | null },
 *   qualities: string[], default_quality: string, output_formats: string[], backgrounds: string[],
 *   moderations: string[], input_fidelities: string[], complexities: string[],
 *   max_n: number, max_input_images: number, max_partial_images: number, supports_markup: boolean,
 *   prices_per_million?: Record<string, number | null>, enabled?: boolean, preview_formats?: string[] | null,
 * }} Model
 * @typedef {{ id: string, reasoning_efforts: string[] }} SvgAuthor
 * @typedef {{ id: string, retired_on: string, replacement: string | null }} RetiredModel
 * @typedef {{ model: string, shutdown_date: string, replacement: string | null, days_left: number }} Deprecation
 * @typedef {{ object: string, default_model: string, data: Model[], retired: RetiredModel[], deprecations?: Deprecation[],
 *   preview_formats_enabled?: string[], svg_authoring?: { default_author: string, authors: SvgAuthor[] } | null }} ModelList
 * @typedef {{ mode: string, offline: boolean, default_model: string, version: string }} Status
 * @typedef {{
 *   id: string, url: string, thumbnail_url: string,
 *   role: "output" | "input" | "mask" | "partial" | "raw" | "changes",
 *   width: number, height: number, format: string, bytes: number, index: number
 * }} ImageInfo
 * @typedef {{
 *   prompt: string, model: string, n: number, size: string, quality: string, background: string,
 *   output_format: string, output_compression: number | null, moderation: string, complexity: string | null,
 *   partial_images: number, input_fidelity: string | null,
 *   [key: string]: unknown
 * }} JobParams
 * @typedef {"queued" | "running" | "succeeded" | "failed" | "canceled"} JobStatus
 * @typedef {{
 *   input_tokens: number, input_text_tokens: number, input_image_tokens: number, output_tokens: number,
 *   output_image_tokens: number, output_text_tokens: number, total_tokens: number
 * }} Usage
 * @typedef {{
 *   id: string, kind: "generate" | "edit" | "mask", status: JobStatus, params: JobParams,
 *   result: { size: string, quality: string, background: string, output_format: string } | null,
 *   images: ImageInfo[], extras: ImageInfo[], inputs: ImageInfo[], partials: ImageInfo[], usage: Usage | null,
 *   cost_usd: number | null, estimated_cost_usd: number | null,
 *   error: { code: string, message: string, retryable: boolean } | null,
 *   attempts: number, favorite: boolean, upstream_request_id: string | null,
 *   created_at: string, started_at: string | null, finished_at: string | null, offline: boolean,
 *   waiting?: { reason: string, seconds: number, until: string, message: string } | null,
 *   upstream_key?: string | null
 * }} Job
 * @typedef {{ data: Job[], next_cursor: string | null }} JobPage
 * @typedef {{ model: string, estimated_cost_usd: number | null,
 *   estimated_cost_range_usd?: { low_usd: number, high_usd: number } | null,
 *   tokens?: { text_input?: number, image_input?: number, image_output?: number },
 *   usage?: Partial<Usage> }} Estimate
 * @typedef {{ model: string, reasoning?: { effort: string } }} SvgBody
 * @typedef {Record<string, string | number | boolean | null | undefined | SvgBody>} GenerateBody
 */

/** An API failure: `{error:{code,message,field}}` (or a network/parse failure with code "network"). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 for network failures)
   * @param {string} code
   * @param {string} message
   * @param {string | null} field request field the error names, e.g. "size" or "image[2]"
   */
  constructor(status, code, message, field) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** @param {unknown} e @returns {string} */
export function errorMessage(e) {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * @typedef {{
 *   json?: unknown, form?: FormData, query?: Record<string, string | number | boolean | null | undefined>,
 *   headers?: Record<string, string>, signal?: AbortSignal, expect?: "json" | "blob" | "none",
 *   onUnauthorized?: "login" | "throw"
 * }} RequestOptions
 */

/**
 * @param {string} method
 * @param {string} path relative path beginning with /v1
 * @param {RequestOptions} [opts]
 * @returns {Promise<any>}
 */
export async function request(method, path, opts = {}) {
  let url = path;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  if (method !== "GET" && method !== "HEAD") {
    const csrf = csrfToken();
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  /** @type {BodyInit | undefined} */
  let body;
  if (opts.form) {
    body = opts.form; // the browser sets the multipart boundary
  } else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["Content-Type"] = "application/json";
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(url, { method, headers, body, signal: opts.signal, credentials: "same-origin" });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "Cannot reach the Atelier server. Check your connection.", null);
  }
  // The studio sends a signed-out user to the login page; the account pages handle 401 themselves.
  if (res.status === 401 && opts.onUnauthorized !== "throw") {
    const next = location.pathname + location.search + location.hash;
    location.assign(`/login.html?next=${encodeURIComponent(next)}`);
  }
  if (!res.ok) throw await toApiError(res);
  if (opts.expect === "blob") return res.blob();
  if (opts.expect === "none" || res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, "bad_response", "The server sent a response that is not JSON.", null);
  }
}

/**
 * The CSRF token of a cookie session (readable by the page; the session cookie itself is HttpOnly).
 * @returns {string | null}
 */
function csrfToken() {
  const match = document.cookie.split("; ").find((c) => c.startsWith("atelier_csrf="));
  return match ? decodeURIComponent(match.slice("atelier_csrf=".length)) : null;
}

/** @param {Response} res @returns {Promise<ApiError>} */
async function toApiError(res) {
  let text = "";
  try {
    text = await res.text();
  } catch {
    /* ignore */
  }
  try {
    const body = JSON.parse(text);
    const e = body && body.error;
    if (e && typeof e === "object") {
      return new ApiError(res.status, String(e.code || "error"), String(e.message || res.statusText),
        typeof e.field === "string" && e.field ? e.field : null);
    }
    // Vapor's default error shape {"error": true, "reason": "..."}
    if (body && typeof body.reason === "string") {
      return new ApiError(res.status, "error", body.reason, null);
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, "http_" + res.status, `${res.status} ${res.statusText || "Request failed"}`, null);
}

/** @returns {string} */
export function newIdempotencyKey() {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}

export const api = {
  /** @returns {Promise<Status>} */
  status: () => request("GET", "/v1/status"),
  /** @returns {Promise<ModelList>} */
  models: () => request("GET", "/v1/models"),
  /** @param {GenerateBody} body @param {AbortSignal} [signal] @returns {Promise<Estimate>} */
  estimate: (body, signal) => request("POST", "/v1/estimate", { json: body, signal }),
  /** @param {GenerateBody} body @returns {Promise<Job>} */
  generate: (body) => request("POST", "/v1/generate", { json: body, headers: { "Idempotency-Key": newIdempotencyKey() } }),
  /** @param {FormData} form @returns {Promise<Job>} */
  edit: (form) => request("POST", "/v1/edit", { form, headers: { "Idempotency-Key": newIdempotencyKey() } }),
  /** @param {FormData} form @returns {Promise<Job>} */
  autoMask: (form) => request("POST", "/v1/mask/auto", { form }),
  /**
   * @param {{ limit?: number, cursor?: string | null, q?: string, model?: string, status?: string,
   *           favorite?: boolean, since?: string, until?: string, batch?: string }} query
   * @param {AbortSignal} [signal]
   * @returns {Promise<JobPage>}
   */
  jobs: (query, signal) => request("GET", "/v1/jobs", {
    query: { ...query, favorite: query.favorite ? "true" : undefined }, signal,
  }),
  /** @param {string} id @returns {Promise<Job>} */
  job: (id) => request("GET", `/v1/jobs/${encodeURIComponent(id)}`),
  /** @param {string} id @returns {Promise<null>} */
  deleteJob: (id) => request("DELETE", `/v1/jobs/${encodeURIComponent(id)}`, { expect: "none" }),
  /** @param {string} id @returns {Promise<Job>} */
  cancel: (id) => request("POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`),
  /** @param {string} id @returns {Promise<Job>} */
  retry: (id) => request("POST", `/v1/jobs/${encodeURIComponent(id)}/retry`),
  /** @param {string} id @param {boolean} favorite @returns {Promise<Job>} */
  favorite: (id, favorite) => request("PUT", `/v1/jobs/${encodeURIComponent(id)}/favorite`, { json: { favorite } }),
  /** @param {string[]} jobIds @returns {Promise<Blob>} */
  zip: (jobIds) => request("POST", "/v1/images/zip", { json: { job_ids: jobIds }, expect: "blob" }),
};

/** @param {string} id */
export const imageUrl = (id) => `/v1/images/${encodeURIComponent(id)}`;
/** @param {string} id */
export const thumbnailUrl = (id) => `/v1/images/${encodeURIComponent(id)}/thumbnail`;

/** @param {Job} job @returns {boolean} */
export const isFinished = (job) => job.status === "succeeded" || job.status === "failed" || job.status === "canceled";
