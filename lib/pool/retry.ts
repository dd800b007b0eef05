import type { PoolConfig } from './config.js';
import { TaskContext, type Task } from './task.js';

/** The resolved retry options of a pool. */
export type RetryPolicy = NonNullable<PoolConfig<unknown, unknown>['retry']>;

/**
 * Whether `task`, whose attempt just failed with `err`, gets another one. Throws what a throwing
 * `shouldRetry` threw: the caller fails the stream with it.
 */
export function retryAllowed<T, R>(retry: RetryPolicy | undefined, task: Task<T, R>, err: unknown): boolean {
  if (retry === undefined || task.attempt > retry.count) return false;
  if (retry.shouldRetry === undefined) return true;
  return retry.shouldRetry(err, new TaskContext(task, task.attempt));
}

/**
 * The wait before the next attempt: exponential from `delay`, capped at `maxDelay`, with the
 * fraction `jitter` of it drawn at random so that values failing together do not retry in step.
 */
export function backoff(retry: RetryPolicy, attempt: number): number {
  const { delay, maxDelay, jitter, random } = retry;
  const base = Math.min(maxDelay, delay * 2 ** (attempt - 1));
  return base * (1 - jitter) + base * jitter * random();
}
