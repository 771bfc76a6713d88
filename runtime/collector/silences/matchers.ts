/**
 * Would a silence mute one of our alerts? Decided from the silence's matchers and what is known of
 * each copa-fleet alerting rule (SilenceWatchSettings.alerts), with Alertmanager's semantics
 * (pkg/labels/matcher.go, v0.2x):
 * - a matcher `name="v"` matches the label's value exactly; `=~` is a regex anchored at both ends
 *   (`^(?:v)$`); `!=` and `!~` (isEqual false) are their negation;
 * - a label the alert does not carry has the empty value (so `team!="x"` matches it, `team="x"` does not);
 * - a silence mutes an alert when every matcher matches.
 * An alert's labels are fixed (alertname, severity, namespace, static labels), set by the rule's
 * expression (values from the inventory or a fixed list, or unknown), absent (a copa-fleet label it
 * does not carry), or unknown (an external label Prometheus may add). Unknown values may be
 * anything: the answer errs towards "mutes", never towards missing a silence.
 */
import type { WatchedAlert } from '../../../src/shared/contract.ts';

export interface Matcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  /** Alertmanager's default is true; false negates (`!=`, `!~`). */
  readonly isEqual: boolean;
}

/** The values a label may have on an alert: a finite set (`''` = absent), or anything. */
export type LabelValues =
  { readonly kind: 'set'; readonly values: readonly string[] } | { readonly kind: 'unknown' };

/** An alerting rule resolved against the inventory: every label it may carry, with its values. */
export interface AlertLabelSpace {
  readonly alert: WatchedAlert;
  readonly labels: ReadonlyMap<string, LabelValues>;
}

export interface LabelContext {
  /** Label names copa-fleet alerts use (absent from an alert means empty). */
  readonly knownLabels: ReadonlySet<string>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly images: readonly string[];
  readonly teams: readonly string[];
  readonly cronjobs: readonly string[];
}

const UNKNOWN: LabelValues = { kind: 'unknown' };

export function labelSpace(alert: WatchedAlert, context: LabelContext): AlertLabelSpace {
  const labels = new Map<string, LabelValues>();
  for (const [name, value] of Object.entries(context.externalLabels))
    labels.set(name, { kind: 'set', values: [value] });
  for (const [name, source] of Object.entries(alert.dynamic)) {
    // An expression's label may be missing on some of its series: the empty value is always possible.
    if (source === 'any') labels.set(name, UNKNOWN);
    else {
      const values =
        source === 'image'
          ? context.images
          : source === 'team'
            ? context.teams
            : source === 'cronjob'
              ? context.cronjobs
              : source;
      labels.set(name, { kind: 'set', values: ['', ...values] });
    }
  }
  for (const [name, value] of Object.entries(alert.labels))
    labels.set(name, { kind: 'set', values: [value] });
  return { alert, labels };
}

const compiled = new Map<string, RegExp | null>();

/** Alertmanager's anchored regex; null when JavaScript cannot compile it (Go RE2 syntax it lacks). */
function anchored(source: string): RegExp | null {
  let re = compiled.get(source);
  if (re === undefined) {
    re = compile(`^(?:${source})$`, 'u') ?? compile(`^(?:${source})$`, '');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

function compile(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}

/** Whether the matcher matches `value`; undefined when it cannot be decided (an uncompilable regex). */
export function matches(matcher: Matcher, value: string): boolean | undefined {
  let hit: boolean;
  if (matcher.isRegex) {
    const re = anchored(matcher.value);
    if (re === null) return undefined;
    hit = re.test(value);
  } else hit = value === matcher.value;
  return matcher.isEqual ? hit : !hit;
}

/** Some value the label may have satisfies every matcher on it (undecidable counts as yes). */
function satisfiable(values: LabelValues, matchers: readonly Matcher[]): boolean {
  let candidates: readonly string[];
  if (values.kind === 'set') candidates = values.values;
  else {
    // Unknown values: an equality matcher pins the value; otherwise assume some value fits.
    const pinned = matchers.find((m) => m.isEqual && !m.isRegex);
    if (pinned === undefined) return true;
    candidates = [pinned.value];
  }
  return candidates.some((value) => matchers.every((m) => matches(m, value) !== false));
}

/** Whether a silence with these matchers mutes (some alert of) the rule. */
export function mutes(
  space: AlertLabelSpace,
  matchers: readonly Matcher[],
  context: LabelContext,
): boolean {
  const byName = new Map<string, Matcher[]>();
  for (const matcher of matchers) {
    const list = byName.get(matcher.name);
    if (list === undefined) byName.set(matcher.name, [matcher]);
    else list.push(matcher);
  }
  for (const [name, list] of byName) {
    const values = space.labels.get(name) ?? (context.knownLabels.has(name) ? ABSENT : UNKNOWN);
    if (!satisfiable(values, list)) return false;
  }
  return true;
}

const ABSENT: LabelValues = { kind: 'set', values: [''] };
