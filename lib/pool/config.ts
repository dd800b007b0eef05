import { asyncScheduler, isObservable, type Observable, type SchedulerLike } from 'rxjs';
import { optionRangeError, optionTypeError } from '../core/errors.js';
import type { MonitorPort } from '../core/monitor.js';
import {
  MAX_COUNT,
  optionalFunction,
  optionalMonitor,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  pushOverflowPolicy,
  positiveInteger,
  timerDelay,
} from '../core/validate.js';
import type { DropEvent } from '../queue/bounded-queue.js';
import type { WorkerStats } from './stats.js';
import type { RetryOptions, Work, WorkContext, WorkerPoolOptions } from './types.js';

/** @internal The resolved configuration of a pool. */
export interface PoolConfig<T, R> {
  name: string;
  work: Work<T, R>;
  concurrency: number | Observable<number>;
  ordered: boolean;
  /** Ordered only: how many values may be between acceptance and emission. */
  window: number;
  failFast: boolean;
  onError: ((error: unknown, value: T, context: WorkContext) => void) | undefined;
  retry:
    | ({ [K in Exclude<keyof RetryOptions, 'shouldRetry'>]-?: NonNullable<RetryOptions[K]> } & {
        shouldRetry: RetryOptions['shouldRetry'];
      })
    | undefined;
  scheduler: SchedulerLike;
  /** How long one attempt may run, in ms; undefined: no limit. */
  timeout: number | undefined;
  /** Keyed concurrency: values of one key run one at a time, in input order. */
  key: ((value: T) => unknown) | undefined;
  capacity: number;
  /** Whether `capacity` is the default (the overflow error then says so). */
  capacityDefaulted: boolean;
  resultCapacity: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  onDrop: ((value: T, event: DropEvent) => void) | undefined;
  monitor: MonitorPort<WorkerStats> | undefined;
}

const POOL_KEYS = [
  'concurrency',
  'errors',
  'onError',
  'retry',
  'scheduler',
  'capacity',
  'resultCapacity',
  'overflow',
  'onDrop',
  'monitor',
  'timeout',
  'key',
] as const;

const RETRY_KEYS = ['count', 'delay', 'maxDelay', 'jitter', 'random', 'shouldRetry'] as const;

/** @internal Validates the options shared by both operators; fails fast naming the parameter. */
export function resolvePoolConfig<T, R>(
  name: string,
  work: unknown,
  options: unknown,
  ordered: boolean,
): PoolConfig<T, R> {
  if (typeof work !== 'function') throw optionTypeError(name, 'work', 'a function', work);
  const known: (keyof WorkerPoolOptions<T> | 'window')[] = [...POOL_KEYS];
  if (ordered) known.push('window');
  const opts = optionsObject<WorkerPoolOptions<T> & { window?: number }>(name, options, true, known);
  const concurrency = opts.concurrency;
  if (!isObservable(concurrency)) {
    if (typeof concurrency !== 'number') {
      throw optionTypeError(name, 'concurrency', 'a positive integer or an Observable<number>', concurrency);
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw optionRangeError(name, 'concurrency', 'a positive integer or an Observable<number>', concurrency);
    }
    if (concurrency > MAX_COUNT)
      throw optionRangeError(name, 'concurrency', `a positive integer up to ${MAX_COUNT}`, concurrency);
  }
  const errors = opts.errors === undefined ? 'fail-fast' : opts.errors;
  if (errors !== 'fail-fast' && errors !== 'continue') {
    throw optionTypeError(name, 'errors', "'fail-fast' or 'continue'", errors);
  }
  const overflow = pushOverflowPolicy(name, opts.overflow);
  const scheduler = optionalScheduler(name, 'scheduler', opts.scheduler, asyncScheduler);
  const monitor = optionalMonitor<WorkerStats>(name, opts.monitor, 'workerMonitor');
  const defaultWindow = typeof concurrency === 'number' ? concurrency * 2 : 32;
  const window = ordered ? optionalPositiveInteger(name, 'window', opts.window, defaultWindow) : Infinity;
  if (ordered && typeof concurrency === 'number' && window < concurrency) {
    throw optionRangeError(name, 'window', `an integer >= concurrency (${concurrency})`, window);
  }
  const onError = optionalFunction<PoolConfig<T, R>['onError']>(name, 'onError', opts.onError);
  if (errors === 'continue' && onError === undefined) {
    // A failure the pool goes on after must land somewhere a person looks: without onError it
    // would be visible only to whoever reads the monitor, which in production is nobody.
    throw new TypeError(
      `${name}: errors: 'continue' needs 'onError' (called with each value whose work failed for good); ` +
        `pass onError: () => {} to ignore failures on purpose, or use errors: 'fail-fast'`,
    );
  }
  return {
    name,
    work: work as Work<T, R>,
    concurrency,
    ordered,
    window,
    failFast: errors === 'fail-fast',
    onError,
    retry: resolveRetry(name, opts.retry),
    scheduler,
    timeout: resolveTimeout(name, opts.timeout),
    key: optionalFunction(name, 'key', opts.key),
    capacity: optionalPositiveInteger(name, 'capacity', opts.capacity, 1024),
    capacityDefaulted: opts.capacity === undefined,
    resultCapacity: optionalPositiveInteger(name, 'resultCapacity', opts.resultCapacity, 1024),
    overflow,
    onDrop: optionalFunction(name, 'onDrop', opts.onDrop),
    monitor,
  };
}

function resolveRetry(name: string, retry: RetryOptions | undefined): PoolConfig<unknown, unknown>['retry'] {
  if (retry === undefined) return undefined;
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) {
    throw optionTypeError(name, 'retry', 'an options object', retry);
  }
  optionsObject<RetryOptions>(name, retry, true, RETRY_KEYS, 'retry');
  const count = positiveInteger(name, 'retry.count', retry.count);
  const nonNegative = (parameter: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number') throw optionTypeError(name, parameter, 'a finite number >= 0', value);
    if (!Number.isFinite(value) || value < 0) throw optionRangeError(name, parameter, 'a finite number >= 0', value);
    return value;
  };
  const delayMs = (parameter: string, value: number | undefined, fallback: number): number =>
    timerDelay(name, parameter, nonNegative(parameter, value, fallback));
  const jitter = nonNegative('retry.jitter', retry.jitter, 0.5);
  if (jitter > 1) throw optionRangeError(name, 'retry.jitter', 'a number from 0 to 1', jitter);
  return {
    count,
    delay: delayMs('retry.delay', retry.delay, 100),
    maxDelay: delayMs('retry.maxDelay', retry.maxDelay, 30_000),
    jitter,
    random: optionalFunction(name, 'retry.random', retry.random) ?? Math.random,
    shouldRetry: optionalFunction(name, 'retry.shouldRetry', retry.shouldRetry),
  };
}

function resolveTimeout(name: string, timeout: unknown): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number') throw optionTypeError(name, 'timeout', 'a number of ms > 0', timeout);
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw optionRangeError(name, 'timeout', 'a finite number of ms > 0', timeout);
  }
  return timerDelay(name, 'timeout', timeout);
}
