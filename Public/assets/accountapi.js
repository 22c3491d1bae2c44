// @ts-check
// Fetch helper for the account pages (login, account, admin). Cookie sessions: every write sends the
// session's CSRF token (the `atelier_csrf` cookie) back as the X-CSRF-Token header.

/** An API failure: `{error:{code,message,field}}`. */
export class AccountApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | null} field
   */
  constructor(status, code, message, field) {
    super(message);
    this.name = "AccountApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The CSRF token of the current session ("" when signed out). */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)atelier_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/**
 * Calls the API with the session cookie; JSON in and out.
 * @param {"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && typeof data === "object" && data.error ? data.error : {};
    throw new AccountApiError(
      response.status, String(error.code ?? `http_${response.status}`), String(error.message ?? response.statusText),
      error.field ?? null);
  }
  return data;
}

/**
 * Creates an element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * The element with `id`, typed.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`#${id} is missing`);
  return node;
}

/**
 * Shows a message in a status element (role=status / alert).
 * @param {HTMLElement} target
 * @param {string} text
 * @param {boolean} [isError]
 */
export function say(target, text, isError = false) {
  target.textContent = text;
  target.classList.toggle("field-error", isError);
}

/**
 * The session: who is signed in, and whether login is required.
 * @returns {Promise<{ authenticated: boolean, login_required: boolean, csrf_token: string | null,
 *   user: { id: string, email: string, role: string, verified: boolean } | null }>}
 */
export function session() {
  return call("GET", "/v1/auth/session");
}
