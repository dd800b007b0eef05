// The public API: everything a user imports comes from here (one entry for ESM, CJS and types).
export { ClosedError, OverflowError, ProtocolError, type OverflowPolicy } from './lib/errors.js';
export { Monitor } from './lib/monitor.js';
export {
  DEMAND,
  PROTOCOL_VERSION,
  isDemandAware,
  type DemandHandle,
  type DemandObservable,
  type DemandObserver,
  type DemandProtocol,
} from './lib/protocol.js';
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
