// DOM helpers. Text from the server (log lines, host names, user names) is
// attacker-controlled: it only ever enters the page through textContent or
// attribute values, never as HTML. The page's Trusted Types policy makes any
// innerHTML assignment throw, so a slip here would fail loudly, not silently.

/**
 * Creates an element.
 * @param {string} tag
 * @param {{class?: string, text?: unknown, attrs?: Record<string, string>}} [options]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  if (options.attrs) {
    for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`Missing element #${id}`);
  return node;
}

/** Shows a short message in the polite live region. */
export function toast(text) {
  const node = byId("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), 4000);
}
