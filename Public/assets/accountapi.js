// @ts-check
// Helpers for the account pages (login, account, admin): API calls through api.js that report a 401 instead of
// redirecting to the login page, and a few DOM helpers.

import { ApiError, request } from "./api.js";

export { ApiError };

/**
 * Calls the API with the session cookie (and the CSRF token on writes); JSON in and out. A 401 is thrown like
 * any other error: these pages show it instead of redirecting.
 * @param {"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export function call(method, path, body) {
  return request(method, path, { json: body, onUnauthorized: "throw" });
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
 *   user: { id: string, email: string, role: string, verified: boolean, status: string } | null }>}
 */
export function session() {
  return call("GET", "/v1/auth/session");
}
