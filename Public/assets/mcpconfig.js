// @ts-check
// "Copy MCP config" on the account page: JSON for desktop MCP clients (`atelier mcp` on stdio) and for clients that
// connect over HTTP to /mcp. A key appears only if this page just created it (it has it in memory); otherwise the
// snippet says where to paste one. With login off no key is needed and none is asked for.
import { byId, say } from "./accountapi.js";

const placeholder = "PASTE-AN-API-KEY (atl_…)";
/** @type {string | null} */
let freshKey = null;
let localMode = false;

/**
 * Remembers a key this page has just created, for the snippets.
 * @param {string} secret
 */
export function rememberKey(secret) {
  freshKey = secret;
}

/** @param {"stdio" | "http"} kind */
export function mcpConfig(kind) {
  const origin = location.origin;
  const key = freshKey ?? placeholder;
  /** @type {Record<string, unknown>} */
  const server = kind === "stdio"
    ? { command: "atelier", args: ["mcp"], env: localMode ? { ATELIER_URL: origin } : { ATELIER_URL: origin, ATELIER_API_KEY: key } }
    : { type: "http", url: `${origin}/mcp`, ...(localMode ? {} : { headers: { Authorization: `Bearer ${key}` } }) };
  return JSON.stringify({ mcpServers: { atelier: server } }, null, 2);
}

/**
 * Wires the copy buttons.
 * @param {{ local: boolean }} options
 */
export function setUpMCPConfig(options) {
  localMode = options.local;
  const shown = byId("mcp-config", HTMLElement);
  const status = byId("mcp-status", HTMLElement);
  for (const kind of /** @type {const} */ (["stdio", "http"])) {
    byId(`copy-mcp-${kind}`, HTMLButtonElement).addEventListener("click", async () => {
      const text = mcpConfig(kind);
      shown.textContent = text;
      shown.hidden = false;
      const note = localMode || freshKey ? "" : " Paste an API key where it says PASTE-AN-API-KEY.";
      try {
        await navigator.clipboard.writeText(text);
        say(status, `Copied the ${kind === "stdio" ? "atelier mcp" : "HTTP"} configuration.${note}`);
      } catch {
        getSelection()?.selectAllChildren(shown);
        say(status, `Selected the configuration below: press Ctrl+C (⌘C) to copy it.${note}`);
      }
    });
  }
}
