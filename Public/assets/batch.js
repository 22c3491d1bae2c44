// @ts-check
// Entry point of batch.html: the new-batch form, the list of the caller's batches and the open batch
// (#id in the address, so a batch can be linked and reloaded).
import { $, h, clear, formatUsd, formatInt, reportError } from "./ui.js";
import { batchApi } from "./batchapi.js";
import { mountBatchForm } from "./batchform.js";
import { showBatch } from "./batchview.js";

const section = /** @type {HTMLElement} */ ($(document, "#batch-section"));
const view = /** @type {HTMLElement} */ ($(document, "#batch-view"));
const list = /** @type {HTMLElement} */ ($(document, "#batch-list"));
/** @type {() => void} */
let stopView = () => {};

async function open() {
  stopView();
  const id = decodeURIComponent(location.hash.slice(1));
  section.hidden = !id;
  if (!id) return;
  try {
    stopView = await showBatch(view, id, () => { location.hash = ""; void loadList(); }, () => void loadList());
    section.scrollIntoView({ block: "start" });
  } catch (e) {
    section.hidden = true;
    reportError(e, view, "Open batch");
  }
}

async function loadList() {
  try {
    const page = await batchApi.list();
    clear(list);
    for (const b of page.data) {
      list.append(h("li", null, h("a", { href: `#${encodeURIComponent(b.id)}`, text: b.name || b.id }),
        ` · ${b.status} · ${formatInt(b.counts.succeeded)}/${formatInt(b.counts.total)} · ${formatUsd(b.cost_usd)}`));
    }
    if (!page.data.length) list.append(h("li", { text: "No batches yet." }));
  } catch (e) {
    reportError(e, list, "Batches");
  }
}

window.addEventListener("hashchange", () => void open());
void mountBatchForm(/** @type {HTMLFormElement} */ ($(document, "#batch-form")), (batch) => {
  location.hash = encodeURIComponent(batch.id);
  void loadList();
}).catch((e) => reportError(e, document.body, "Batch form"));
void loadList();
void open();
