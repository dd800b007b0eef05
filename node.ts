// The Node entry (`rxjs-backpressure/node`): adapters to Node streams. Kept apart from index.ts so
// that a browser bundle of the main entry never meets an import of node:stream.
export { toNodeReadable, type ToNodeReadableOptions } from './operators/toNodeReadable.js';
export { writeTo, type WriteToOptions } from './operators/writeTo.js';
