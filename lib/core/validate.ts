import type { SchedulerLike } from 'rxjs';
import { optionRangeError, optionTypeError, type OverflowPolicy } from './errors.js';
import { monitorPort, type MonitorPort } from './monitor-port.js';

/** The largest length a JavaScript array can have: a larger capacity could never be allocated. */
export const MAX_COUNT = 2 ** 32 - 1;

/**
 * The longest wait a timer can make (about 24.8 days): Node and browsers run a longer setTimeout
 * after about 1 ms, so a deadline or a backoff above it would fire at once.
 */
export const MAX_DELAY = 2 ** 31 - 1;

const POLICIES: readonly OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'error', 'block'];

/** Fails fast unless `value` is an integer >= 1 (a capacity, a concurrency, a batch size). */
export function positiveInteger(operator: string, parameter: string, value: unknown): number {
  if (typeof value !== 'number') throw optionTypeError(operator, parameter, 'a positive integer', value);
  if (!Number.isInteger(value) || value < 1) throw optionRangeError(operator, parameter, 'a positive integer', value);
  if (value > MAX_COUNT) throw optionRangeError(operator, parameter, `a positive integer up to ${MAX_COUNT}`, value);
  return value;
}

/** Like {@link positiveInteger}, but `undefined` yields the default. */
export function optionalPositiveInteger(operator: string, parameter: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : positiveInteger(operator, parameter, value);
}

/** Fails fast unless `value` is one of the overflow policies. */
export function overflowPolicy(
  operator: string,
  parameter: string,
  value: unknown,
  fallback?: OverflowPolicy,
): OverflowPolicy {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw optionTypeError(operator, parameter, `one of ${POLICIES.map((p) => `'${p}'`).join(', ')} (required)`, value);
  }
  if (typeof value !== 'string' || !(POLICIES as readonly string[]).includes(value)) {
    throw optionTypeError(operator, parameter, `one of ${POLICIES.map((p) => `'${p}'`).join(', ')}`, value);
  }
  return value as OverflowPolicy;
}

/**
 * The overflow policy of a queue that absorbs a push source (the pool's, batchFresh's,
 * rateLimit's, broadcast's): every policy but `block`, which only a pausable source could honour,
 * and a pausable one is paused without any policy.
 */
export function pushOverflowPolicy(operator: string, value: unknown): 'drop-newest' | 'drop-oldest' | 'error' {
  const overflow = overflowPolicy(operator, 'overflow', value, 'error');
  if (overflow === 'block') {
    throw optionTypeError(
      operator,
      'overflow',
      "'drop-newest', 'drop-oldest' or 'error' (a pausable source is paused without a policy)",
      overflow,
    );
  }
  return overflow;
}

/** Fails fast when a finite number of milliseconds is longer than a timer can wait. */
export function timerDelay(operator: string, parameter: string, value: number): number {
  if (Number.isFinite(value) && value > MAX_DELAY) {
    throw optionRangeError(
      operator,
      parameter,
      `a number of ms up to ${MAX_DELAY} (the longest a timer can wait)`,
      value,
    );
  }
  return value;
}

/** Fails fast unless `value` is a SchedulerLike (`schedule` and `now`); `undefined` yields the default. */
export function optionalScheduler(
  operator: string,
  parameter: string,
  value: unknown,
  fallback: SchedulerLike,
): SchedulerLike {
  if (value === undefined) return fallback;
  if (!isSchedulerLike(value)) throw optionTypeError(operator, parameter, 'a SchedulerLike', value);
  return value;
}

function isSchedulerLike(value: unknown): value is SchedulerLike {
  if (typeof value !== 'object' || value === null) return false;
  const { schedule, now } = value as Partial<SchedulerLike>;
  return typeof schedule === 'function' && typeof now === 'function';
}

/**
 * Fails fast unless `value` is undefined or a monitor made by the named factory (in this build or
 * any other copy of the library): a monitor of another kind would show counters of the wrong
 * shape. Returns the monitor's internals, which is all a stage uses.
 */
export function optionalMonitor<S extends object>(
  operator: string,
  value: unknown,
  factory: string,
): MonitorPort<S> | undefined {
  if (value === undefined) return undefined;
  const port = monitorPort<S>(value, factory);
  if (port === undefined) throw optionTypeError(operator, 'monitor', `a monitor from ${factory}()`, value);
  return port;
}

/** Fails fast unless `value` is a function or undefined. */
export function optionalFunction<F>(operator: string, parameter: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw optionTypeError(operator, parameter, 'a function', value);
  return value as F;
}

/**
 * Fails fast unless the options argument is an object (or absent, when allowed) whose keys are
 * all known: a misspelt key (`retries` for `retry`) would otherwise be ignored, and the option the
 * user meant would silently not apply.
 */
export function optionsObject<O extends object>(
  operator: string,
  value: unknown,
  required: boolean,
  known: readonly (keyof O & string)[],
  parameter = 'options',
): Partial<O> {
  if (value === undefined && !required) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionTypeError(operator, parameter, 'an options object', value);
  }
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) throw unknownOptionError(operator, parameter, key, known);
  }
  return value;
}

/** The TypeError for an option key the operator does not know, with the nearest known key. */
export function unknownOptionError(
  operator: string,
  parameter: string,
  key: string,
  known: readonly string[],
): TypeError {
  const near = nearest(key, known);
  const where = parameter === 'options' ? '' : ` in '${parameter}'`;
  const hint = near === undefined ? '' : `; did you mean '${near}'?`;
  const list = known.map((k) => `'${k}'`).join(', ');
  return new TypeError(`${operator}: unknown option '${key}'${where}${hint} (known: ${list})`);
}

/** The known key closest to `key` by edit distance, if it is close enough to be a typo. */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  const prefix = best !== undefined && (best.startsWith(key) || key.startsWith(best));
  return prefix || bestDistance <= Math.max(2, Math.floor(key.length / 2)) ? best : undefined;
}

/** Levenshtein distance, two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** Fails fast unless `value` is a boolean or undefined (which means false). */
export function optionalBoolean(operator: string, parameter: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw optionTypeError(operator, parameter, 'a boolean', value);
  return value;
}
