// @ts-check
// Sign in and sign up (with consent). A setup link (#setup=…, the first admin) or an invitation (#invite=…) rides
// along with the sign-up. After signing in the browser goes to ?next= when it names a page of this origin, or the
// studio; an account waiting for approval goes to the account page, which says so.
import { ApiError, byId, call, say, session } from "./accountapi.js";

/**
 * Where to go after signing in: `target` only when it resolves to this origin (so `//evil`, `/\evil` and
 * `https://evil` all fall back to the studio).
 * @param {string | null} target
 * @returns {string}
 */
export function safeNext(target) {
  if (!target || !target.startsWith("/")) return "/";
  try {
    const url = new URL(target, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}

const next = safeNext(new URLSearchParams(location.search).get("next"));
const grant = new URLSearchParams(location.hash.slice(1));
// A setup or invitation link opened in a tab already on this page changes only the hash: read it afresh.
window.addEventListener("hashchange", () => location.reload());
const invite = grant.get("invite");
const setupToken = grant.get("setup");

if (setupToken) {
  byId("signup-title", HTMLElement).textContent = "Create the admin account";
  say(byId("signup-note", HTMLElement), "This setup link makes the first admin; it works once.");
} else if (invite) {
  say(byId("signup-note", HTMLElement), "You were invited: your account is ready as soon as you create it.");
}

/** @param {{ user: { status?: string } | null }} signedIn */
function leave(signedIn) {
  location.assign(signedIn.user?.status === "pending" ? "/account.html" : next);
}

/**
 * Wires a form: `send` posts it and returns the new session.
 * @param {HTMLFormElement} form
 * @param {(data: FormData) => Promise<any>} send
 */
function wire(form, send) {
  const status = byId(`${form.id}-status`, HTMLElement);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button instanceof HTMLButtonElement) button.disabled = true;
    say(status, "…");
    try {
      leave(await send(new FormData(form)));
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

/** @param {FormData} data */
function credentials(data) {
  return { email: String(data.get("email") ?? ""), password: String(data.get("password") ?? "") };
}

wire(byId("signin", HTMLFormElement), (data) => call("POST", "/v1/auth/login", credentials(data)));
wire(byId("signup", HTMLFormElement), async (data) => {
  const body = { ...credentials(data), consent: data.get("consent") === "on", invite, setup_token: setupToken };
  await call("POST", "/v1/auth/signup", body);
  try {
    return await call("POST", "/v1/auth/login", credentials(data));
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_credentials") {
      throw new ApiError(error.status, error.code, "If this email already has an account, sign in with its password.", null);
    }
    throw error;
  }
});

session().then((current) => {
  if (current.authenticated && current.user) {
    say(byId("signed-in", HTMLElement), `Signed in as ${current.user.email}.`);
  }
}).catch(() => undefined);
