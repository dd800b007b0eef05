import { config as rxjsConfig } from 'rxjs';

/**
 * Typed errors. Each names the operator (and, for option errors, the parameter) so that a
 * failure in a long pipe points at the stage that caused it.
 */

/** The overflow policies of a bounded queue; see docs/design.md for what each one means. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest' | 'error' | 'block';

/** Raised by a bounded queue under the `error` policy when a value arrives and the queue is full. */
export class OverflowError extends Error {
  override readonly name = 'OverflowError';
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
  ) {
    super(
      policy === 'max-pending-sends'
        ? `${operator}: too many waiting senders (maxPendingSends ${capacity})`
        : `${operator}: queue overflow (capacity ${capacity}${unit === undefined ? '' : ` ${unit}`}, overflow policy '${policy}')`,
    );
  }
}

/** Raised when a value is offered to a channel that has been closed. */
export class ClosedError extends Error {
  override readonly name = 'ClosedError';
  constructor(
    /** The closed stage, e.g. `channel`. */
    readonly operator: string,
  ) {
    super(`${operator}: closed`);
  }
}

/**
 * Raised when the demand protocol is misused: `request(n)` with n <= 0 or not a number
 * (Reactive Streams rule 3.9), or two copies of the library whose protocol versions cannot talk.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** `TypeError` for an option of the wrong type; the message names the operator and parameter. */
export function optionTypeError(operator: string, parameter: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`${operator}: '${parameter}' must be ${expected}, got ${describe(actual)}`);
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
  override readonly name = 'CancelledError';
  constructor(
    /** The operator that cancelled the work, e.g. `mergeWorkers`. */
    readonly operator: string,
    /** Why: the subscriber left, a sibling failed, the source failed, or a deadline passed. */
    readonly reason: CancelReason,
    cause?: unknown,
  ) {
    super(`${operator}: work cancelled because ${CANCEL_TEXT[reason]}`, cause === undefined ? undefined : { cause });
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
