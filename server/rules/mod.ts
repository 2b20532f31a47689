/**
 * Detection rules and alerts (docs/RULES.md): the rule format and its
 * validation, the built-in rules, the stateless engine run by the pool
 * workers, the correlator and alert pipeline run by the writer worker, the
 * rules file loader, the alert feed and webhook, and the agent silence check.
 *
 * @example
 * ```ts
 * import { loadRulesFile } from "./mod.ts";
 * const rules = await loadRulesFile("/etc/nms/rules.yaml");
 * await startServer({ rules });
 * ```
 *
 * @module
 */

export { AlertFeed, type AlertListener, type AlertNotice } from "./alert_feed.ts";
export { AlertPipeline, type PipelineEntry } from "./alert_pipeline.ts";
export { BUILTIN_RULE_IDS, BUILTIN_RULES, RENUMBERED_RULE_IDS } from "./builtin_rules.ts";
export {
  LINEAR_REGEX_HINT,
  LINEAR_REGEX_V8_FLAGS,
  type LinearRegexSupport,
  linearRegexSupport,
} from "./linear_regex.ts";
export {
  Correlator,
  type CorrelatorOptions,
  DEFAULT_MAX_TRACKED_KEYS,
  type FiredAlert,
  foldKeyOf,
  type MatchedEvent,
} from "./correlator.ts";
export { type BatchMatches, emptyMatches, RuleEngine } from "./engine.ts";
export { matchBatch } from "./match_batch.ts";
export {
  type LogTestAlert,
  type LogTestMatch,
  type LogTestResult,
  MAX_LOG_TEST_LINES,
  testLogLines,
} from "./log_tester.ts";
export { agentRegisteredEvent, agentSilentEvent } from "./nms_events.ts";
export * from "./rule.ts";
export {
  assertBoundedRegexes,
  builtinRuleSet,
  loadRulesFile,
  MAX_RULES_FILE_BYTES,
  parseRulesText,
  type RulesFileOptions,
} from "./rules_file.ts";
export { AgentSilenceWatch, type SilenceWatchOptions } from "./silence_watch.ts";
export * from "./webhook.ts";
