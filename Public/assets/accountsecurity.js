// @ts-check
// My account, password and sessions: change the password (every other session ends) and sign out everywhere.
import { ApiError, byId, call, say } from "./accountapi.js";

const status = byId("security-status", HTMLElement);

/** @param {unknown} error */
function report(error) {
  say(status, error instanceof ApiError ? error.message : "The server could not be reached.", true);
}

byId("password-change", HTMLFormElement).addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const data = new FormData(form);
  try {
    await call("POST", "/v1/me/password", {
      current_password: String(data.get("current_password") ?? ""), new_password: String(data.get("new_password") ?? ""),
    });
    form.reset();
    say(status, "Password changed; every other session was signed out.");
  } catch (error) {
    report(error);
  }
});

byId("logout-everywhere", HTMLButtonElement).addEventListener("click", async () => {
  try {
    await call("DELETE", "/v1/me/sessions");
    location.assign("/login.html");
  } catch (error) {
    report(error);
  }
});
