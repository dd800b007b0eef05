import { optionRangeError, optionTypeError, type OverflowPolicy } from './errors.js';

const POLICIES: readonly OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'error', 'block'];

/** Fails fast unless `value` is an integer >= 1 (a capacity, a concurrency, a batch size). */
export function positiveInteger(operator: string, parameter: string, value: unknown): number {
  if (typeof value !== 'number') throw optionTypeError(operator, parameter, 'a positive integer', value);
  if (!Number.isInteger(value) || value < 1) throw optionRangeError(operator, parameter, 'a positive integer', value);
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
