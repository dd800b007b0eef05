// The public API: everything a user imports comes from here (one entry for ESM, CJS and types).
export { ClosedError, OverflowError, ProtocolError, type OverflowPolicy } from './lib/core/errors.js';
export { Monitor, type Settled } from './lib/core/monitor.js';
export {
  DEMAND,
  PROTOCOL_VERSION,
  isDemandAware,
  type DemandHandle,
  type DemandObservable,
  type DemandObserver,
  type DemandProtocol,
} from './lib/core/protocol.js';
export {
  boundedBuffer,
  bufferMonitor,
  type BoundedBufferOptions,
  type BufferStats,
  type DropEvent,
  type DropReason,
} from './operators/boundedBuffer.js';
export { channel, type Channel, type ChannelOptions, type SendOptions } from './operators/channel.js';
export { fromPull } from './operators/fromPull.js';
export { toAsyncIterable, type ToAsyncIterableOptions } from './operators/toAsyncIterable.js';
export { CancelledError, TimeoutError, type CancelReason } from './lib/core/errors.js';
export { workerMonitor, type WorkerStats } from './lib/pool/stats.js';
export type { RetryOptions, Work, WorkContext, WorkerPoolOptions } from './lib/pool/types.js';
export { mergeWorkers, type MergeWorkersOptions } from './operators/mergeWorkers.js';
export { orderedMerge, type OrderedMergeOptions } from './operators/orderedMerge.js';
export { batchFresh, batchMonitor, type BatchFreshOptions, type BatchStats } from './operators/batchFresh.js';
export {
  DrainDeadlineError,
  drainOnComplete,
  type DrainOptions,
  type DrainReport,
  type StageCounts,
} from './operators/drainOnComplete.js';
export type { Cancellation } from './lib/core/protocol.js';
export type { OverflowDetail } from './lib/core/errors.js';
export type { PullInput, ReadableStreamLike } from './operators/fromPull.js';
export { rateLimit, rateMonitor, type RateLimitOptions, type RateStats } from './operators/rateLimit.js';
export {
  BROADCAST_MAX_IN_FLIGHT,
  LagError,
  broadcast,
  broadcastMonitor,
  type BroadcastOptions,
  type BroadcastStats,
  type LagDropEvent,
  type LagPolicy,
} from './operators/broadcast.js';
export { paceDemand, type PaceDemandOptions } from './operators/paceDemand.js';
export { toReadableStream, type ToReadableStreamOptions } from './operators/toReadableStream.js';
export { writeToStream, type WriteToStreamOptions } from './operators/writeToStream.js';
export { abortable } from './operators/abortable.js';
export type { PushBufferOptions } from './operators/pull-adapter.js';
