import type { SchedulerLike } from 'rxjs';
import { optionRangeError, optionTypeError, type OverflowPolicy } from './errors.js';
import { Monitor } from './monitor.js';

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
 * Fails fast unless `value` is undefined or a monitor made by the named factory: a monitor of
 * another kind would show counters of the wrong shape.
 */
export function optionalMonitor<S extends object>(
  operator: string,
  value: unknown,
  factory: 'bufferMonitor' | 'workerMonitor' | 'batchMonitor',
): Monitor<S> | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Monitor) || value.kind !== factory) {
    throw optionTypeError(operator, 'monitor', `a monitor from ${factory}()`, value);
  }
  return value as Monitor<S>;
}

/** Fails fast unless `value` is a function or undefined. */
export function optionalFunction<F>(operator: string, parameter: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw optionTypeError(operator, parameter, 'a function', value);
  return value as F;
}

/** Fails fast unless the options argument is an object (or absent, when allowed). */
export function optionsObject<O extends object>(operator: string, value: unknown, required: boolean): Partial<O> {
  if (value === undefined && !required) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionTypeError(operator, 'options', 'an options object', value);
  }
  return value;
}

/** Fails fast unless `value` is a boolean or undefined (which means false). */
export function optionalBoolean(operator: string, parameter: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw optionTypeError(operator, parameter, 'a boolean', value);
  return value;
}
