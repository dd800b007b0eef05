import { config as rxjsConfig } from 'rxjs';

/**
 * Typed errors. Each names the operator (and, for option errors, the parameter) so that a
 * failure in a long pipe points at the stage that caused it.
 */

/** The overflow policies of a bounded queue; see docs/design.md for what each one means. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest' | 'error' | 'block';

/**
 * The brand every error class of the library puts on its instances, on a registered symbol so
 * that it is the same key in every copy of the library: the ESM and the CommonJS builds loaded in
 * one process, or two installed copies of a compatible version. Its value is the class name; a
 * change to a class's fields that older copies could not read must give it a new value (e.g.
 * `'OverflowError@2'`), so that copies which disagree on the shape stop recognising each other.
 */
const ERROR_BRAND = Symbol.for('rxjs-backpressure.error');

/**
 * Marks an instance of the library's error class `name`; non-enumerable, so it is never printed.
 * @internal Also used by the error classes defined beside their operator (DrainDeadlineError).
 */
export function brandError(error: Error, name: string): void {
  Object.defineProperty(error, ERROR_BRAND, { value: name, configurable: true });
}

/** Any error class: the receiver of `static [Symbol.hasInstance]`. */
type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * `instanceof` for a branded class: the ordinary prototype check, or, for the base class itself,
 * the brand, so that an error raised by another copy of the library is recognised. A subclass
 * keeps the ordinary check only: an OverflowError is not an instance of every user subclass.
 * @internal Also used by the error classes defined beside their operator (DrainDeadlineError).
 */
export function isBranded(cls: ErrorClass, base: ErrorClass, name: string, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  if (cls !== base || typeof value !== 'object' || value === null) return false;
  return (value as { [ERROR_BRAND]?: unknown })[ERROR_BRAND] === name;
}

/**
 * What an {@link OverflowError} can say beyond its capacity: which option set it, and what to do.
 */
export interface OverflowDetail {
  /** The option that set the capacity, when it is not one called `capacity` (e.g. `'maxPending'`). */
  readonly option?: string | undefined;
  /** A sentence appended to the message: why the queue exists and how to fix the overflow. */
  readonly advice?: string | undefined;
}

/** Raised by a bounded queue under the `error` policy when a value arrives and the queue is full. */
export class OverflowError extends Error {
  /** Recognises an OverflowError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, OverflowError, 'OverflowError', value);
  }

  override readonly name = 'OverflowError';
  /** The option that set the capacity, when it is not one called `capacity`. */
  readonly option: string | undefined;
  /** The advice appended to the message, if any. */
  readonly advice: string | undefined;

  constructor(
    /** The operator whose queue overflowed, e.g. `boundedBuffer`. */
    readonly operator: string,
    /** The queue's capacity. */
    readonly capacity: number,
    /**
     * The policy in force: `error`; `block` when a source that was asked to pause sent more than
     * it was asked for; `max-pending-sends` when a channel has too many waiting senders.
     */
    readonly policy: OverflowPolicy | 'max-pending-sends',
    /** What the capacity counts, when it is not queued values (e.g. `'waiting senders'`, `'batches'`). */
    unit?: string,
    /** Which option set the capacity, and what to do about it. */
    detail?: OverflowDetail,
  ) {
    super(overflowMessage(operator, capacity, policy, unit, detail));
    this.option = detail?.option;
    this.advice = detail?.advice;
    brandError(this, 'OverflowError');
  }
}

function overflowMessage(
  operator: string,
  capacity: number,
  policy: OverflowPolicy | 'max-pending-sends',
  unit: string | undefined,
  detail: OverflowDetail | undefined,
): string {
  const advice = detail?.advice === undefined ? '' : `. ${detail.advice}`;
  if (policy === 'max-pending-sends')
    return `${operator}: too many waiting senders (maxPendingSends ${capacity})${advice}`;
  const counted = unit === undefined ? '' : ` ${unit}`;
  const option = detail?.option === undefined ? '' : `, set by the '${detail.option}' option`;
  return `${operator}: queue overflow (capacity ${capacity}${counted}${option}, overflow policy '${policy}')${advice}`;
}

/** Raised when a value is offered to a channel that has been closed. */
export class ClosedError extends Error {
  /** Recognises a ClosedError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, ClosedError, 'ClosedError', value);
  }

  override readonly name = 'ClosedError';
  constructor(
    /** The closed stage, e.g. `channel`. */
    readonly operator: string,
  ) {
    super(`${operator}: closed`);
    brandError(this, 'ClosedError');
  }
}

/**
 * Raised when the demand protocol is misused: `request(n)` with n <= 0 or not a number
 * (Reactive Streams rule 3.9), or two copies of the library whose protocol versions cannot talk.
 */
export class ProtocolError extends Error {
  /** Recognises a ProtocolError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, ProtocolError, 'ProtocolError', value);
  }

  override readonly name = 'ProtocolError';
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    brandError(this, 'ProtocolError');
  }
}

/** `TypeError` for an option of the wrong type; the message names the operator and parameter. */
export function optionTypeError(operator: string, parameter: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`${operator}: '${parameter}' must be ${expected}, got ${describe(actual)}`);
}

/**
 * `TypeError` for a callback that returned the wrong thing: "<op>: 'work' must return an
 * ObservableInput (...) for value #3, but it returned 42". `expected` is what it must return,
 * with any qualifier ("... for value #3").
 */
export function returnTypeError(operator: string, parameter: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`${operator}: '${parameter}' must return ${expected}, but it returned ${describe(actual)}`);
}

/** `RangeError` for an option out of range; the message names the operator and parameter. */
export function optionRangeError(operator: string, parameter: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`${operator}: '${parameter}' must be ${expected}, got ${describe(actual)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an ${typeof value}`;
}

/** Why a worker's AbortSignal fired. */
export type CancelReason = 'unsubscribed' | 'sibling-failed' | 'source-failed' | 'deadline';

const CANCEL_TEXT: Record<CancelReason, string> = {
  unsubscribed: 'the subscriber unsubscribed',
  'sibling-failed': "another value's work failed (fail-fast)",
  'source-failed': 'the source errored',
  deadline: 'the drain deadline passed',
};

/**
 * The reason given to a worker's AbortSignal when the library cancels its work. `reason` says
 * why, and `cause` holds the error that caused it, if any.
 */
export class CancelledError extends Error {
  /** Recognises a CancelledError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, CancelledError, 'CancelledError', value);
  }

  override readonly name = 'CancelledError';
  constructor(
    /** The operator that cancelled the work, e.g. `mergeWorkers`. */
    readonly operator: string,
    /** Why: the subscriber left, a sibling failed, the source failed, or a deadline passed. */
    readonly reason: CancelReason,
    cause?: unknown,
  ) {
    super(`${operator}: work cancelled because ${CANCEL_TEXT[reason]}`, cause === undefined ? undefined : { cause });
    brandError(this, 'CancelledError');
  }
}

/**
 * An error with no subscriber left to take it goes to RxJS's unhandled-error hook, or is thrown
 * on a fresh stack as RxJS does, so that it is never lost silently.
 */
export function reportUnhandled(err: unknown): void {
  const hook = rxjsConfig.onUnhandledError;
  if (hook !== null) hook(err);
  else
    setTimeout(() => {
      throw err;
    });
}

/**
 * The reason a worker's AbortSignal is aborted with, and the error its attempt fails with, when
 * the attempt ran longer than the pool's `timeout`. A retry sees it like any other failure; to
 * retry everything but timeouts, `shouldRetry: (err) => !(err instanceof TimeoutError)`.
 */
export class TimeoutError extends Error {
  /** Recognises a TimeoutError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, TimeoutError, 'TimeoutError', value);
  }

  override readonly name = 'TimeoutError';
  constructor(
    /** The operator whose work timed out, e.g. `mergeWorkers`. */
    readonly operator: string,
    /** The limit, in milliseconds, that the attempt passed. */
    readonly timeout: number,
    /** The value's position in the source, from 0. */
    readonly index: number,
    /** Which attempt timed out: 1 for the first. */
    readonly attempt: number,
  ) {
    super(`${operator}: attempt ${attempt} of value #${index} timed out after ${timeout} ms`);
    brandError(this, 'TimeoutError');
  }
}
