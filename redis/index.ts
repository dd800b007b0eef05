// rxjs-backpressure/redis: Redis Streams consumer groups as a demand-aware source and sink.
// A separate entry so that the main one never loads anything Redis-related.
export { fromRedisStream, type FromRedisStreamOptions, type RedisStreamSource } from './fromRedisStream.js';
export { ackAfter, type AckAfterOptions, type AckWorkContext } from './ackAfter.js';
export { toRedisStream, type LagLimit, type ToRedisStreamOptions } from './toRedisStream.js';
export type { RedisStreamMessage, RedisStreamReport } from './ledger.js';
export { RedisStreamError } from './errors.js';
export type { RedisCommander, RedisConnection, RedisStreamClient } from './client.js';
