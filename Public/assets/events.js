// @ts-check
// Live job updates over SSE (GET /v1/jobs/{id}/events) with reconnect and resync.
import { api, isFinished } from "./api.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */
/**
 * @typedef {{ type: string, job_id: string, seq: number, job: Job, image: ImageInfo | null }} JobEvent
 */

export const EVENT_TYPES = ["job.queued", "job.running", "job.partial_image", "job.succeeded", "job.failed", "job.canceled"];

/**
 * Follows one job until it finishes. `onUpdate` gets every newer snapshot of the job (each SSE event
 * carries the full job). The browser's EventSource reconnects by itself (sending Last-Event-ID); when
 * the stream is closed for good (e.g. an HTTP error), we reopen it with back-off and resync with
 * GET /v1/jobs/{id} so nothing is missed.
 *
 * @param {string} jobId
 * @param {{ onUpdate: (job: Job, event: JobEvent | null) => void, onError?: (message: string) => void }} handlers
 * @returns {{ close: () => void }}
 */
export function watchJob(jobId, handlers) {
  /** @type {EventSource | null} */
  let source = null;
  let closed = false;
  let lastSeq = -1;
  let retries = 0;
  /** @type {number | undefined} */
  let timer;

  /** @type {Job | null} */
  let latest = null;
  /** @param {Job} job */
  const progress = (job) =>
    ({ queued: 0, running: 1, succeeded: 2, failed: 2, canceled: 2 })[job.status] * 1000 +
    (job.partials || []).length + (job.images || []).length;

  /** @param {Job} job @param {JobEvent | null} ev */
  const deliver = (job, ev) => {
    if (closed) return;
    // A polled snapshot can be older than the last streamed event: never go backwards.
    if (!ev && latest && progress(job) < progress(latest)) return;
    latest = job;
    handlers.onUpdate(job, ev);
    if (isFinished(job)) close();
  };

  const resync = async () => {
    try {
      const job = await api.job(jobId);
      deliver(job, null);
    } catch (e) {
      /* the stream will tell us more */
    }
  };

  /** @param {MessageEvent} msg */
  const onMessage = (msg) => {
    retries = 0;
    /** @type {JobEvent} */
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch {
      return;
    }
    if (!ev || !ev.job) return;
    if (typeof ev.seq === "number") {
      if (ev.seq <= lastSeq) return;
      lastSeq = ev.seq;
    }
    deliver(ev.job, ev);
  };

  const open = () => {
    if (closed) return;
    source = new EventSource(`/v1/jobs/${encodeURIComponent(jobId)}/events`);
    for (const t of EVENT_TYPES) source.addEventListener(t, /** @type {EventListener} */ (onMessage));
    source.onmessage = onMessage; // servers that omit `event:`
    source.onopen = () => {
      retries = 0;
    };
    source.onerror = () => {
      if (closed || !source) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (HTTP error or bad content type): back off, resync and reopen.
        source = null;
        retries += 1;
        const delay = Math.min(15000, 500 * 2 ** Math.min(retries, 5));
        if (retries === 4 && handlers.onError) handlers.onError("Live updates interrupted — reconnecting…");
        void resync();
        timer = window.setTimeout(open, delay);
      } else {
        // CONNECTING: the browser reconnects with Last-Event-ID; resync in case the job ended meanwhile.
        void resync();
      }
    };
  };

  const close = () => {
    closed = true;
    if (timer !== undefined) window.clearTimeout(timer);
    if (source) source.close();
    source = null;
  };

  open();
  // A job may have finished before we subscribed: a snapshot makes sure we see it.
  void resync();
  return { close };
}
