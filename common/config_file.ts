/**
 * The configuration files of nms-server and nms-agent: a flat YAML
 * mapping whose keys are the long names of a command's flags (`port: 8080`,
 * `retention-days: 30` for `serve`; `server: logs.example.com:8080`,
 * `path: [/var/log/syslog]` for `run`). The command's own option table is the
 * schema, so every flag is a key with the same validation, default,
 * environment variable and help text, and `config check` and `config keys`
 * print from it.
 *
 * Precedence is flag > environment > file > default: commander already gives
 * flag > environment > default, and a file value is applied only where the
 * option's value still comes from its default. Unknown keys are errors. It lives
 * in common/ because both binaries use it, and common/ depends on neither.
 *
 * @module
 */

import { errorMessage } from "./error_message.ts";
import { CommanderError, InvalidArgumentError, type Option } from "@commander-js/extra-typings";

/** Largest configuration file read, in bytes: anything bigger is a mistake. */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

/** How secrets are shown by `config check`. */
export const MASK = "********";

/** Keys whose value is a secret (masked by `config check`). */
const SECRET_KEY = /password|secret|token|(^|-)webhook$/;

/** Keys of the command line that are not configuration. */
const NOT_CONFIG = new Set(["config", "help", "version"]);

/** The part of a commander command this module uses. */
export interface ConfigurableCommand {
  readonly options: readonly Option[];
  getOptionValue(key: string): unknown;
  getOptionValueSource(key: string): string | undefined;
  setOptionValueWithSource(key: string, value: unknown, source: "config"): unknown;
}

/** One key of the configuration file, derived from one flag. */
export interface ConfigKey {
  /** Key in the file: the long flag without `--` (and without `no-` for a negated flag). */
  readonly key: string;
  /** Property of the parsed options, e.g. `retentionDays`. */
  readonly attribute: string;
  /** What the value must be, e.g. `an integer from 0 to 65535`. */
  readonly type: string;
  /** The default, or undefined. */
  readonly defaultValue: unknown;
  /** Environment variable of the flag, or undefined. */
  readonly env: string | undefined;
  /** Help text of the flag. */
  readonly help: string;
  /** Whether `config check` masks the value. */
  readonly secret: boolean;
  /** The commander option. */
  readonly option: Option;
}

/** A configuration file that cannot be used; `errors` holds one line per problem. */
export class ConfigFileError extends Error {
  /**
   * @param errors One sentence per problem, each naming the file (and the key).
   */
  constructor(readonly errors: readonly string[]) {
    super(errors.join("; "));
    this.name = "ConfigFileError";
  }
}

/** Whether an option takes no value (`--plain-agents`, `--no-builtin-rules`). */
function isFlag(option: Option): boolean {
  return option.isBoolean() || option.negate;
}

/** What a parser says the value must be, found by giving it an impossible value. */
function typeOf(option: Option): string {
  if (isFlag(option)) return "true or false";
  if (option.argChoices) return `one of ${option.argChoices.join(", ")}`;
  if (option.parseArg) {
    try {
      option.parseArg("\u0000not a value", option.defaultValue);
    } catch (error) {
      const message = errorMessage(error);
      if (error instanceof InvalidArgumentError && message.startsWith("expected ")) {
        return message.slice("expected ".length);
      }
    }
  }
  if (Array.isArray(option.defaultValue)) return "a list of text";
  return typeof option.defaultValue === "number" ? "a number" : "text";
}

/**
 * The keys of a command's configuration file: one per long flag, except
 * `--config`, `--help` and `--version`.
 *
 * @param command The command whose flags make the schema (`serve`).
 * @returns The keys, in the order of the flags.
 * @example
 * ```ts
 * configKeys(serve).map((k) => k.key); // ["port", "host", "db", ...]
 * ```
 */
export function configKeys(command: ConfigurableCommand): ConfigKey[] {
  const keys: ConfigKey[] = [];
  for (const option of command.options) {
    const long = option.long?.replace(/^--/, "");
    if (long === undefined || NOT_CONFIG.has(long)) continue;
    const key = option.negate ? long.replace(/^no-/, "") : long;
    keys.push({
      key,
      attribute: option.attributeName(),
      type: typeOf(option),
      defaultValue: option.defaultValue,
      env: option.envVar,
      help: option.description,
      secret: SECRET_KEY.test(key) && !key.endsWith("-file"),
      option,
    });
  }
  return keys;
}

/** The closest key to a misspelt one, when close enough to suggest. */
function suggestion(key: string, keys: readonly ConfigKey[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of keys) {
    const d = distance(key, candidate.key);
    if (d < bestDistance) [best, bestDistance] = [candidate.key, d];
  }
  return best;
}

/** Turns one file value into the option's value, or says what is wrong with it. */
function convert(key: ConfigKey, value: unknown): { value: unknown } | { error: string } {
  const option = key.option;
  const expected = () => ({ error: `expected ${key.type} (got ${JSON.stringify(value)})` });
  if (isFlag(option)) {
    // A negated flag's key is positive (`builtin-rules: false` for --no-builtin-rules),
    // like its attribute, so the value applies as it is.
    if (typeof value !== "boolean") return expected();
    return { value };
  }
  const scalar = (v: unknown) =>
    typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? String(v) : undefined;
  const texts = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
  if (texts.length === 0 || texts.some((t) => t === undefined)) return expected();
  // A list is accepted for repeatable flags, and joined for comma-separated ones.
  const repeatable = Array.isArray(option.defaultValue);
  const inputs = Array.isArray(value) && !repeatable ? [texts.join(",")] : texts as string[];
  const choices = option.argChoices;
  if (choices && inputs.some((input) => !choices.includes(input))) return expected();
  try {
    let result: unknown = repeatable ? [] : option.defaultValue;
    for (const input of inputs) {
      result = option.parseArg ? option.parseArg(input, result) : input;
    }
    return { value: result };
  } catch (error) {
    const message = errorMessage(error);
    return {
      error: `${
        message.startsWith("expected ") ? message : `expected ${key.type}: ${message}`
      } (got ${JSON.stringify(value)})`,
    };
  }
}

/**
 * Reads and validates a configuration file against a schema.
 *
 * @param path The file (YAML; JSON is YAML too).
 * @param keys The schema, from {@linkcode configKeys}.
 * @returns The parsed value of each key present, by attribute name.
 * @throws {ConfigFileError} With one message per problem: unreadable file,
 * YAML syntax, not a mapping, unknown key (with a suggestion), bad value (with
 * the expected type). Each names the file, line and key.
 * @example
 * ```ts
 * const values = await readConfigFile("/etc/nms/nms-server.yaml", configKeys(serve));
 * ```
 */
export async function readConfigFile(
  path: string,
  keys: readonly ConfigKey[],
): Promise<Map<string, unknown>> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new ConfigFileError([`Cannot read configuration file ${path}: not a file`]);
    }
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      throw new ConfigFileError([
        `Cannot read configuration file ${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`,
      ]);
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : errorMessage(error);
    throw new ConfigFileError([`Cannot read configuration file ${path}: ${why}`]);
  }
  // Loaded only when a file is read: the YAML parser costs the agent about
  // 10 MB of resident memory, and most agents run without a config file.
  const { isMap, isScalar, LineCounter, parseDocument } = await import("yaml");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(doc.errors.map((e) => {
      const at = e.linePos?.[0];
      return `${path}${at ? `:${at.line}` : ""}: invalid YAML: ${e.message.split("\n")[0]}`;
    }));
  }
  if (doc.contents === null) return new Map();
  if (!isMap(doc.contents)) {
    throw new ConfigFileError([`${path}: expected a mapping of keys to values at the top level`]);
  }
  const byKey = new Map(keys.map((k) => [k.key, k]));
  const values = new Map<string, unknown>();
  const errors: string[] = [];
  for (const item of doc.contents.items) {
    const node = item.key;
    const name = isScalar(node) ? String(node.value) : JSON.stringify(String(node));
    const offset = isScalar(node) && node.range ? node.range[0] : undefined;
    const where = `${path}${offset === undefined ? "" : `:${lines.linePos(offset).line}`}`;
    const key = byKey.get(name);
    if (!key) {
      const near = suggestion(name, keys);
      errors.push(`${where}: unknown key "${name}"${near ? ` (did you mean "${near}"?)` : ""}`);
      continue;
    }
    const raw = isScalar(item.value) || item.value === null
      ? (item.value as { value?: unknown } | null)?.value ?? null
      : (item.value as { toJSON(): unknown }).toJSON();
    const converted = convert(key, raw);
    if ("error" in converted) errors.push(`${where}: key "${name}": ${converted.error}`);
    else values.set(key.attribute, converted.value);
  }
  if (errors.length > 0) throw new ConfigFileError(errors);
  return values;
}

/**
 * {@linkcode readConfigFile} for a command line: a bad file writes one line
 * per problem and ends the command as a usage error (exit 2), which the
 * programs treat like commander's own.
 *
 * @param path The file given by `--config`.
 * @param keys The schema, from {@linkcode configKeys}.
 * @param writeError Writes one error line to stderr.
 * @returns The parsed value of each key present, by attribute name.
 * @throws {CommanderError} `commander.invalidConfig` with exit code 2 when the file is bad.
 * @example
 * ```ts
 * applyConfigValues(serve, await loadConfigFile(path, configKeys(serve), console.error));
 * ```
 */
export async function loadConfigFile(
  path: string,
  keys: readonly ConfigKey[],
  writeError: (line: string) => void,
): Promise<Map<string, unknown>> {
  try {
    return await readConfigFile(path, keys);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    for (const line of error.errors) writeError(line);
    throw new CommanderError(2, "commander.invalidConfig", error.message);
  }
}

/**
 * Applies file values to a parsed command where the value still comes from
 * its default (or is unset): flags and environment variables win.
 *
 * @param command The command, after parsing and before its action.
 * @param values File values by attribute, from {@linkcode readConfigFile}.
 * @param only Attributes to apply (others are ignored); all when absent.
 * @returns The attributes that took their value from the file.
 * @example
 * ```ts
 * applyConfigValues(serve, await readConfigFile(path, configKeys(serve)));
 * ```
 */
export function applyConfigValues(
  command: ConfigurableCommand,
  values: ReadonlyMap<string, unknown>,
  only?: ReadonlySet<string>,
): string[] {
  const applied: string[] = [];
  for (const [attribute, value] of values) {
    if (only && !only.has(attribute)) continue;
    const source = command.getOptionValueSource(attribute);
    if (source !== undefined && source !== "default") continue;
    command.setOptionValueWithSource(attribute, value, "config");
    applied.push(attribute);
  }
  return applied;
}

/** One line of {@linkcode formatEffectiveConfig}. */
export interface EffectiveValue {
  readonly key: string;
  /** The value as YAML text (masked for secrets), or undefined when unset. */
  readonly text: string | undefined;
  /** `flag`, `env NAME`, `file` or `default`. */
  readonly source: string;
}

/** Hides the password of a URL and, for secret keys, everything. */
function shown(key: ConfigKey, value: unknown): string {
  if (key.secret) return JSON.stringify(MASK);
  const mask = (v: unknown) => {
    if (typeof v !== "string") return v;
    try {
      const url = new URL(v);
      if (url.password) url.password = MASK;
      return url.password ? url.href : v;
    } catch {
      return v;
    }
  };
  return JSON.stringify(Array.isArray(value) ? value.map(mask) : mask(value));
}

/**
 * The effective value and source of every key of a parsed command.
 *
 * @param command The command after parsing and {@linkcode applyConfigValues}.
 * @param keys Its schema.
 * @returns One entry per key, secrets masked.
 * @example
 * ```ts
 * effectiveConfig(serve, configKeys(serve));
 * ```
 */
export function effectiveConfig(
  command: ConfigurableCommand,
  keys: readonly ConfigKey[],
): EffectiveValue[] {
  return keys.map((key) => {
    const value = command.getOptionValue(key.attribute);
    const source = command.getOptionValueSource(key.attribute);
    const label = source === "cli"
      ? "flag"
      : source === "env"
      ? `env ${key.env}`
      : source === "config"
      ? "file"
      : "default";
    return {
      key: key.key,
      text: value === undefined ? undefined : shown(key, value),
      source: label,
    };
  });
}

/**
 * Formats the effective configuration as YAML that can serve as a
 * configuration file, each line commented with where its value came from.
 *
 * @param values From {@linkcode effectiveConfig}.
 * @returns The text.
 * @example
 * ```ts
 * formatEffectiveConfig([{ key: "port", text: "8080", source: "default" }]);
 * // "port: 8080  # default"
 * ```
 */
export function formatEffectiveConfig(values: readonly EffectiveValue[]): string {
  const lines = values.map((v) =>
    v.text === undefined ? `# ${v.key}: (unset)` : `${v.key}: ${v.text}`
  );
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  return values.map((v, i) => `${lines[i]!.padEnd(width)}# ${v.source}`).join("\n");
}

/**
 * The schema as a Markdown table: key, type, default, environment variable, help.
 *
 * @param keys From {@linkcode configKeys}.
 * @returns The table.
 * @example
 * ```ts
 * const table = formatConfigKeys(configKeys(serve));
 * ```
 */
export function formatConfigKeys(keys: readonly ConfigKey[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = keys.map((k) =>
    `| \`${k.key}\` | ${cell(k.type)} | ${
      k.defaultValue === undefined ? "" : `\`${JSON.stringify(k.defaultValue)}\``
    } | ${k.env ? `\`${k.env}\`` : ""} | ${cell(k.help)} |`
  );
  return [
    "| Key | Type | Default | Environment | Meaning |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ]
    .join("\n");
}
