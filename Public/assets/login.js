// @ts-check
// Sign in and sign up (with consent). On success the browser goes to ?next= (same-site paths only) or the studio.
import { ApiError, byId, call, say, session } from "./accountapi.js";

const next = (() => {
  const target = new URLSearchParams(location.search).get("next") ?? "/";
  return target.startsWith("/") && !target.startsWith("//") ? target : "/";
})();

/**
 * Wires a form to an endpoint.
 * @param {HTMLFormElement} form
 * @param {string} path
 * @param {(data: FormData) => Record<string, unknown>} body
 */
function wire(form, path, body) {
  const status = byId(`${form.id}-status`, HTMLElement);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button instanceof HTMLButtonElement) button.disabled = true;
    say(status, "…");
    try {
      await call("POST", path, body(new FormData(form)));
      location.assign(next);
    } catch (error) {
      const message = error instanceof ApiError ? error.message : "The server could not be reached.";
      say(status, message, true);
      if (error instanceof ApiError && error.field) {
        const input = form.elements.namedItem(error.field);
        if (input instanceof HTMLInputElement) input.focus();
      }
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  });
}

wire(byId("signin", HTMLFormElement), "/v1/auth/login", (data) => ({
  email: String(data.get("email") ?? ""), password: String(data.get("password") ?? ""),
}));
wire(byId("signup", HTMLFormElement), "/v1/auth/signup", (data) => ({
  email: String(data.get("email") ?? ""), password: String(data.get("password") ?? ""), consent: data.get("consent") === "on",
}));

session().then((current) => {
  if (current.authenticated && current.user) {
    say(byId("signed-in", HTMLElement), `Signed in as ${current.user.email}.`);
  }
}).catch(() => undefined);
