/**
 * Who may log in: password hashing (scrypt), agent enrollment tokens, the
 * login lockout, the verification a pool worker runs for `LOGIN`, and the
 * first admin created on first start (docs/SECURITY.md).
 *
 * @module
 */

export * from "./bootstrap_admin.ts";
export * from "./lockout.ts";
export * from "./login_events.ts";
export * from "./password.ts";
export * from "./redact.ts";
export * from "./tickets.ts";
export * from "./tokens.ts";
export * from "./verify_login.ts";
