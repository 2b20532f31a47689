// Login page: posts the credentials as JSON and opens the console on success.
// Runs in the browser only; no data from the server is ever parsed as HTML.

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username || !password) {
    showError("Enter your user name and password.");
    (username ? form.elements.password : form.elements.username).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = "Signing in…";
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
      credentials: "same-origin",
    });
    if (response.ok) {
      location.replace("/#/live");
      return;
    }
    const body = await response.json().catch(() => ({}));
    showError(body.error ?? `Sign-in failed (HTTP ${response.status}).`);
    form.elements.password.select();
    form.elements.password.focus();
  } catch {
    showError("The server cannot be reached. Check the connection and try again.");
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
});
