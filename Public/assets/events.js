// @ts-check
// Live job updates over SSE (GET /v1/jobs/{id}/events) with reconnect and resync.
import { api, isFinished } from "./api.js";

/** @typedef {import("./api.js").Job} Job */
/** @typedef {import("./api.js").ImageInfo} ImageInfo */
/**
 * @typedef {{ type: string, job_id: string, seq: number, job: Job, image: ImageInfo | null }} JobEvent
 */

export const EVENT_TYPES = [
  "job.queued", "job.running", "job.waiting", "job.partial_image", "job.succeeded", "job.failed", "job.canceled",
  "spend.quota_exhausted",
];

/**
 * How far a job has got, for telling an older snapshot from a newer one (a polled job can arrive after a newer
 * streamed event).
 * @param {Job} job
 */
export const jobProgress = (job) =>
  ({ queued: 0, running: 1, succeeded: 2, failed: 2, canceled: 2 })[job.status] * 1000 +
  (job.partials || []).length + (job.images || []).length;

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
  let closed = false;

  /** @type {Job | null} */
  let latest = null;

  /** @param {Job} job @param {JobEvent | null} ev */
  const deliver = (job, ev) => {
    if (closed) return;
    // A polled snapshot can be older than the last streamed event: never go backwards.
    if (!ev && latest && jobProgress(job) < jobProgress(latest)) return;
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

  const onMessage = eventReader((ev) => deliver(ev.job, ev));

  const stream = follow(`/v1/jobs/${encodeURIComponent(jobId)}/events`, onMessage, {
    onReconnecting: () => void resync(), // the job may have ended meanwhile
    onDropped: (attempt) => {
      if (attempt === 4 && handlers.onError) handlers.onError("Live updates interrupted — reconnecting…");
      void resync();
    },
  });

  const close = () => {
    closed = true;
    stream.close();
  };

  // A job may have finished before we subscribed: a snapshot makes sure we see it.
  void resync();
  return { close };
}

/**
 * Follows every job of the signed-in user (GET /v1/events) until closed: `onEvent` gets each event once, in
 * per-job order. The browser reconnects with Last-Event-ID (the server replays what was missed); if the stream
 * is closed for good it is reopened with back-off.
 *
 * @param {(ev: JobEvent) => void} onEvent
 * @param {(connected: boolean) => void} [onConnection] told when the stream opens and when it drops
 * @returns {{ close: () => void }}
 */
export function watchAll(onEvent, onConnection) {
  return follow("/v1/events", eventReader(onEvent), {
    onOpen: () => onConnection?.(true),
    onReconnecting: () => onConnection?.(false),
    onDropped: () => onConnection?.(false),
  });
}

/**
 * Turns SSE messages into job events, each delivered once and in per-job order (a reconnect may replay some).
 * @param {(ev: JobEvent) => void} onEvent
 * @returns {(msg: MessageEvent) => void}
 */
function eventReader(onEvent) {
  /** @type {Map<string, number>} */
  const lastSeq = new Map();
  return (msg) => {
    /** @type {JobEvent} */
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch {
      return;
    }
    if (!ev || !ev.job) return;
    if (typeof ev.seq === "number") {
      if ((lastSeq.get(ev.job_id) ?? -1) >= ev.seq) return;
      lastSeq.set(ev.job_id, ev.seq);
    }
    onEvent(ev);
  };
}

/**
 * One EventSource on `url` that is reopened with exponential back-off when the browser gives up on it
 * (an HTTP error or a bad content type); ordinary drops are retried by the browser itself.
 *
 * @param {string} url
 * @param {(msg: MessageEvent) => void} onMessage
 * @param {{ onOpen?: () => void, onReconnecting?: () => void, onDropped?: (attempt: number) => void }} hooks
 * @returns {{ close: () => void }}
 */
function follow(url, onMessage, hooks) {
  /** @type {EventSource | null} */
  let source = null;
  let closed = false;
  let attempt = 0;
  /** @type {number | undefined} */
  let timer;
  const open = () => {
    if (closed) return;
    const es = new EventSource(url);
    source = es;
    for (const t of EVENT_TYPES) es.addEventListener(t, /** @type {EventListener} */ (onMessage));
    es.onmessage = onMessage; // servers that omit `event:`
    es.onopen = () => {
      attempt = 0;
      hooks.onOpen?.();
    };
    es.onerror = () => {
      if (closed || source !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        source = null;
        attempt += 1;
        hooks.onDropped?.(attempt);
        timer = window.setTimeout(open, Math.min(15000, 500 * 2 ** Math.min(attempt, 5)));
      } else {
        hooks.onReconnecting?.();
      }
    };
  };
  open();
  return {
    close() {
      closed = true;
      if (timer !== undefined) window.clearTimeout(timer);
      source?.close();
      source = null;
    },
  };
}
