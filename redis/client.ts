/**
 * The part of a Redis client this subpath uses, written structurally so that the package never
 * imports `redis` at run time: a node-redis v5 or v6 client (`createClient()`) fits it, in
 * RESP2 or RESP3. Every command goes through `sendCommand`, so the replies parsed here are the
 * raw Redis replies, whatever the client's typed helpers return in a given version.
 */
export interface RedisCommander {
  /** Sends one command; resolves with its reply, rejects with the server's error reply or a connection error. */
  sendCommand(args: string[]): Promise<unknown>;
}

/** A connected client that can open another connection for blocking reads. */
export interface RedisStreamClient extends RedisCommander {
  /** A new, not yet connected client with the same options (node-redis `duplicate()`). */
  duplicate(): RedisConnection;
}

/** A connection of our own: connected, watched and released by the source that opened it. */
export interface RedisConnection extends RedisCommander {
  connect(): Promise<unknown>;
  /** Closes the socket now; commands in flight reject (node-redis `destroy()`). */
  destroy(): void;
  /** True while connected and ready for commands. */
  readonly isReady: boolean;
  /** False once the client was closed for good (it no longer reconnects). */
  readonly isOpen: boolean;
  on(event: 'error' | 'ready' | 'end', listener: () => void): unknown;
}

/** One stream entry as Redis returns it: the id and its field-value pairs. */
export interface RawEntry {
  readonly id: string;
  readonly fields: Record<string, string>;
}

/**
 * The entries of a one-stream XREADGROUP reply: RESP2 `[[stream, entries]]`, RESP3 a map
 * (an object or a Map, depending on the client's type mapping), or nil on a BLOCK timeout.
 */
export function parseReadReply(reply: unknown): RawEntry[] {
  if (reply === null || reply === undefined) return [];
  let streams: unknown[];
  if (reply instanceof Map) streams = [...reply.values()];
  else if (Array.isArray(reply))
    streams = (reply as unknown[]).map((pair) => (Array.isArray(pair) ? (pair[1] as unknown) : undefined));
  else if (typeof reply === 'object') streams = Object.values(reply);
  else throw new TypeError(`unexpected XREADGROUP reply: ${typeof reply}`);
  const entries: RawEntry[] = [];
  for (const list of streams) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const parsed = parseEntry(entry);
      if (parsed !== undefined) entries.push(parsed);
    }
  }
  return entries;
}

/**
 * One entry `[id, [field, value, ...]]`. An entry whose content was deleted (XDEL, trimming)
 * while it was pending comes back as `[id, nil]`; it is returned as undefined.
 */
export function parseEntry(entry: unknown): RawEntry | undefined {
  if (!Array.isArray(entry)) return undefined;
  const [id, pairs] = entry as [unknown, unknown];
  if (!Array.isArray(pairs)) return undefined;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[String(pairs[i])] = String(pairs[i + 1]);
  return { id: String(id), fields };
}

/** XAUTOCLAIM's reply: `[nextCursor, entries, deletedIds]` (the third element since Redis 7). */
export function parseClaimReply(reply: unknown): { cursor: string; entries: RawEntry[]; deleted: number } {
  if (!Array.isArray(reply)) throw new TypeError(`unexpected XAUTOCLAIM reply: ${String(reply)}`);
  const [cursor, list, deleted] = reply as [unknown, unknown, unknown];
  const entries: RawEntry[] = [];
  if (Array.isArray(list)) {
    for (const entry of list) {
      const parsed = parseEntry(entry);
      if (parsed !== undefined) entries.push(parsed);
    }
  }
  return { cursor: String(cursor), entries, deleted: Array.isArray(deleted) ? deleted.length : 0 };
}

/** Delivery counts from an extended XPENDING reply `[[id, consumer, idle, deliveries], ...]`. */
export function parsePendingCounts(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) return counts;
  for (const row of reply) {
    if (Array.isArray(row)) counts.set(String(row[0]), Number(row[3]));
  }
  return counts;
}

/** One group's row of XINFO GROUPS as a plain record (RESP2 flat pairs, RESP3 map or Map). */
export function parseInfoRows(reply: unknown): Record<string, unknown>[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((row: unknown) => {
    if (row instanceof Map) return Object.fromEntries(row) as Record<string, unknown>;
    if (Array.isArray(row)) {
      const record: Record<string, unknown> = {};
      for (let i = 0; i + 1 < row.length; i += 2) record[String(row[i])] = row[i + 1];
      return record;
    }
    return typeof row === 'object' && row !== null ? (row as Record<string, unknown>) : {};
  });
}

/** The server's error reply code (`NOGROUP`, `BUSYGROUP`, ...), or undefined for other errors. */
export function replyCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const match = /^([A-Z][A-Z_]+) /.exec(err.message);
  return match === null ? undefined : match[1];
}

/**
 * Errors that mean the connection, not the command, failed: node-redis's socket and offline
 * errors. Matched by name, so that the package does not import `redis` to test `instanceof`.
 */
const CONNECTION_ERRORS = new Set([
  'SocketClosedUnexpectedlyError',
  'ClientOfflineError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'DisconnectsClientError',
  'ClientClosedError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
]);

/** True when `err` is a connection fault (to wait out), not an error reply (to surface). */
export function isConnectionFault(err: unknown, connection: RedisConnection | undefined): boolean {
  if (connection !== undefined && !connection.isReady) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    CONNECTION_ERRORS.has(err.name) ||
    CONNECTION_ERRORS.has(err.constructor.name) ||
    CONNECTION_ERRORS.has(String(code))
  );
}
