// Signing in: when the service refuses a query, ask the person for a token and keep it for this tab.

import { byId, h } from "./dom";

// sessionStorage, not localStorage: the token is gone when the browser session ends (shared machines).
const KEY = "lineage-explorer.token";
const INTRO = "This service needs a token with the read scope to answer queries.";

/** Return the token this tab holds, if any. */
export function heldToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Set when the person cancelled the dialog or signed out: queries fail quietly until they press Sign in. */
let declined = false;

function hold(token: string | null): void {
  if (token === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, token);
  byId("sign-out").hidden = token === null;
  byId("sign-in-button").hidden = token !== null || !declined;
}

/**
 * Wire the header's controls: Sign out (shown while a token is held) forgets the token; Sign in (shown
 * after the dialog was cancelled or the person signed out) asks again, checks the token with `probe`, then calls `signedIn`.
 */
export function setupAccount(probe: (token: string) => Promise<Response>, signedIn: () => void): void {
  hold(heldToken());
  byId("sign-out").addEventListener("click", () => {
    declined = true; // signed out on purpose: queries fail quietly, Sign in asks again
    hold(null);
    byId("sign-in-button").focus();
  });
  byId("sign-in-button").addEventListener("click", async () => {
    const token = await ask(INTRO, async (token) => {
      const answer = await probe(token);
      return isRefusal(answer) ? await reason(answer) : null;
    });
    if (token === null) return;
    declined = false;
    hold(token);
    signedIn();
  });
}

/** Return whether the service refused the request for want of a (good) token. */
export function isRefusal(response: Response): boolean {
  return response.status === 401 || response.status === 403;
}

/** Say why the service refused, in its own words (api/auth.py: unknown or revoked, lacks the scope). */
async function reason(response: Response): Promise<string> {
  let said = "";
  try {
    said = ((await response.json()) as { error?: string }).error ?? "";
  } catch {
    // not JSON: the status alone says it
  }
  said = said.replace(/^authorization:\s*/, "").replace(/^the token /, "it ");
  if (response.status === 403) return `The token was refused: ${said || "it lacks the read scope"}.`;
  return `The token was refused: ${said || "it is unknown or revoked"}.`;
}

/** Ask for a token until `attempt` is let in with one (it returns a refusal, or null) or the person cancels. */
function ask(intro: string, attempt: (token: string) => Promise<string | null>): Promise<string | null> {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true });
  const error = h("p", { id: "sign-in-error", class: "refused", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    {},
    h("h3", { id: "sign-in-title" }, "Sign in to query the graph"),
    h("p", { id: "sign-in-intro" }, intro),
    h("label", { for: "token" }, "Token with the read scope"),
    input,
    error,
    h("div", { class: "actions" }, cancel, submit),
  );
  const dialog = h("dialog", { id: "sign-in", class: "sign-in", "aria-labelledby": "sign-in-title", "aria-describedby": "sign-in-intro" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const finish = (token: string | null): void => {
      dialog.close();
      dialog.remove();
      resolve(token);
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault(); // Escape: finish here so the promise settles once
      finish(null);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      submit.disabled = true;
      error.textContent = "";
      const refused = await attempt(token);
      submit.disabled = false;
      if (refused === null) return finish(token);
      error.textContent = refused;
      input.value = "";
      input.focus();
    });
    dialog.showModal();
    input.focus();
  });
}

let signingIn: Promise<string | null> | null = null;

/**
 * The service refused a request sent with the token `sent`: ask for a token (one dialog for all
 * requests refused meanwhile) and send the request again with it. Return the answer, or why it stayed refused when the person cancels.
 */
export async function retrySignedIn(
  refused: Response,
  sent: string | null,
  send: (token: string) => Promise<Response>,
): Promise<Response | string> {
  if (signingIn) {
    const token = await signingIn;
    return token === null ? "A token with the read scope is needed to query this service." : send(token);
  }
  const held = heldToken();
  if (held !== null && held !== sent) return send(held); // sent before the person signed in: no need to ask
  const intro = sent !== null ? await reason(refused) : INTRO;
  if (declined) return `${intro} Use Sign in at the top to give one.`;
  hold(null); // a refused token is no use any more
  const last: { answer?: Response } = {};
  signingIn = ask(intro, async (token) => {
    const answer = (last.answer = await send(token));
    return isRefusal(answer) ? await reason(answer) : null;
  });
  try {
    const token = await signingIn;
    if (token === null || !last.answer) {
      declined = true; // don't ask again at every keystroke: the Sign in control does
      hold(null);
      return `${intro} Use Sign in at the top to give one.`;
    }
    hold(token);
    return last.answer;
  } finally {
    signingIn = null;
  }
}
