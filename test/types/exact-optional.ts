/**
 * Type test, compiled with `exactOptionalPropertyTypes: true` (tsconfig.exact.json, run by
 * `npm run typecheck`): every optional option of every public operator and options type accepts
 * an explicit `undefined`, as code like `{ monitor: debug ? monitor : undefined }` passes. Under
 * that flag `x?: T` refuses `undefined`; the options say `x?: T | undefined`. The runtime treats
 * an explicit undefined as absent (test/reliability/bad-input.cases.ts, "explicitly undefined").
 *
 * Not run, only compiled: each `satisfies` fails the typecheck if an option refuses undefined,
 * and `Exact` fails it if an optional key is missing here (a new option must be added).
 */
import { of, type Observable } from 'rxjs';
import {
  batchFresh,
  boundedBuffer,
  channel,
  drainOnComplete,
  mergeWorkers,
  orderedMerge,
  toAsyncIterable,
  type BatchFreshOptions,
  type BoundedBufferOptions,
  type ChannelOptions,
  type DrainOptions,
  type MergeWorkersOptions,
  type OrderedMergeOptions,
  type OverflowDetail,
  type RetryOptions,
  type SendOptions,
  type ToAsyncIterableOptions,
  type WorkerPoolOptions,
} from '../../index.js';

/** The optional keys of `O`. */
type OptionalKeys<O> = {
  [K in keyof O]-?: undefined extends O[K] ? K : object extends Pick<O, K> ? K : never;
}[keyof O];

/** `O` with every optional key present and undefined: a literal of this type names them all. */
type AllUndefined<O> = { [K in OptionalKeys<O>]: undefined };

/** Fails to compile unless `A` and `B` are the same set of keys. */
type Exact<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : never) : never;
const exact = <A, B>(check: Exact<A, B>): Exact<A, B> => check;

const u = undefined;

const bufferUndefined = { onDrop: u, monitor: u, delayError: u };
exact<typeof bufferUndefined, AllUndefined<BoundedBufferOptions<number>>>(true);
const bufferOptions = {
  capacity: 2,
  overflow: 'drop-oldest',
  ...bufferUndefined,
} satisfies BoundedBufferOptions<number>;

const channelUndefined = { maxPendingSends: u };
exact<typeof channelUndefined, AllUndefined<ChannelOptions>>(true);
const channelOptions = { capacity: 2, ...channelUndefined } satisfies ChannelOptions;

const sendUndefined = { signal: u };
exact<typeof sendUndefined, AllUndefined<SendOptions>>(true);
const sendOptions = { ...sendUndefined } satisfies SendOptions;

const iterableUndefined = { capacity: u, overflow: u, onDrop: u, monitor: u };
exact<typeof iterableUndefined, AllUndefined<ToAsyncIterableOptions<number>>>(true);
const iterableOptions = { ...iterableUndefined } satisfies ToAsyncIterableOptions<number>;

const retryUndefined = { delay: u, maxDelay: u, jitter: u, random: u, shouldRetry: u };
exact<typeof retryUndefined, AllUndefined<RetryOptions>>(true);
const retryOptions = { count: 2, ...retryUndefined } satisfies RetryOptions;

const poolUndefined = {
  errors: u,
  onError: u,
  retry: u,
  scheduler: u,
  capacity: u,
  resultCapacity: u,
  overflow: u,
  onDrop: u,
  monitor: u,
  timeout: u,
  key: u,
};
exact<typeof poolUndefined, AllUndefined<WorkerPoolOptions<number>>>(true);
const poolOptions = { concurrency: 2, ...poolUndefined } satisfies WorkerPoolOptions<number>;
const mergeOptions = { ...poolOptions, retry: retryOptions } satisfies MergeWorkersOptions<number>;

const orderedUndefined = { ...poolUndefined, window: u };
exact<typeof orderedUndefined, AllUndefined<OrderedMergeOptions<number>>>(true);
const orderedOptions = { concurrency: 2, ...orderedUndefined } satisfies OrderedMergeOptions<number>;

const batchUndefined = {
  maxWait: u,
  scheduler: u,
  onError: u,
  freeze: u,
  maxPending: u,
  overflow: u,
  monitor: u,
  weight: u,
  maxWeight: u,
  oversized: u,
};
// `size` is optional too, but one of size and maxWait is required at run time.
exact<typeof batchUndefined & { size: undefined }, AllUndefined<BatchFreshOptions>>(true);
const batchOptions = { size: 2, ...batchUndefined } satisfies BatchFreshOptions;
const batchBySize = { size: u, maxWait: 10 } satisfies BatchFreshOptions;

const drainUndefined = { stop: u, drainSource: u, onReport: u, deadlineError: u, scheduler: u };
exact<typeof drainUndefined, AllUndefined<DrainOptions>>(true);
const drainOptions = { deadline: 100, ...drainUndefined } satisfies DrainOptions;

const detailUndefined = { option: u, advice: u };
exact<typeof detailUndefined, AllUndefined<OverflowDetail>>(true);
const detail = { ...detailUndefined } satisfies OverflowDetail;

/** Each operator called with its all-undefined options, as a user would. */
export function usesEveryOperator(): Observable<unknown>[] {
  const work = (v: number) => of(v);
  const ch = channel<number>(channelOptions);
  void ch.send(1, sendOptions);
  void toAsyncIterable(of(1), iterableOptions);
  void detail;
  return [
    of(1).pipe(boundedBuffer(bufferOptions)),
    of(1).pipe(mergeWorkers(work, mergeOptions)),
    of(1).pipe(orderedMerge(work, orderedOptions)),
    of(1).pipe(batchFresh(batchOptions)),
    of(1).pipe(batchFresh(batchBySize)),
    of(1).pipe(drainOnComplete(mergeWorkers(work, poolOptions), drainOptions)),
    ch.observable,
  ];
}
