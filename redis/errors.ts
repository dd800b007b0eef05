/**
 * A Redis command of this subpath failed in a way the stream cannot go on from: a reply error
 * (WRONGTYPE, NOGROUP without `createGroup`), a client that stopped reconnecting, or an ack or
 * dead-letter write that did not reach Redis. `command` names the command, `cause` holds what
 * the client threw.
 */
export class RedisStreamError extends Error {
  override readonly name = 'RedisStreamError';
  constructor(
    /** The operator, e.g. `fromRedisStream`. */
    readonly operator: string,
    /** The Redis command that failed, e.g. `XACK`. */
    readonly command: string,
    message: string,
    cause?: unknown,
  ) {
    super(`${operator}: ${message}`, cause === undefined ? undefined : { cause });
  }
}

/** Text of an error for a Redis field (the dead-letter entry's error). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
