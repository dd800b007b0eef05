import { optionRangeError, optionTypeError } from '../lib/core/errors.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { DemandObservable } from '../lib/core/protocol.js';
import { optionalPositiveInteger, optionsObject, timerDelay } from '../lib/core/validate.js';
import {
  isConnectionFault,
  parseClaimReply,
  parsePendingCounts,
  parseReadReply,
  replyCode,
  type RawEntry,
  type RedisConnection,
  type RedisStreamClient,
} from './client.js';
import { RedisStreamError, errorText } from './errors.js';
import { Ledger, type RedisStreamMessage, type RedisStreamReport } from './ledger.js';

const NAME = 'fromRedisStream';

/** The options of {@link fromRedisStream}. */
export interface FromRedisStreamOptions {
  /** A connected node-redis client; acks, dead letters and unblocking go through it. */
  client: RedisStreamClient;
  /** The stream key. */
  stream: string;
  /** The consumer group. */
  group: string;
  /** This consumer's name in the group; unique per process (a host name and pid, say). */
  consumer: string;
  /** How long one XREADGROUP waits for new entries, in ms (default 2000; 0 waits until unblocked). */
  block?: number;
  /** The largest COUNT of one read (default 100); a read asks for min(demand, batch). */
  batch?: number;
  /**
   * Create the group if it does not exist (`XGROUP CREATE stream group <start> MKSTREAM`; an
   * existing group is left as it is). `true` starts at `$` (new entries only); `{ start: '0' }`
   * takes the whole stream. Also recreates the group after a Redis restart lost it.
   */
  createGroup?: boolean | { start: string };
  /**
   * Entries idle longer than this (ms) in any consumer's pending list are claimed with XAUTOCLAIM
   * (a dead consumer's, or one's own rejected entries). Claimed entries count against demand.
   * Must exceed the longest work, or live work is claimed too and done twice.
   */
  claimIdle?: number;
  /** With `deadLetter`: an entry is delivered at most this many times, then dead-lettered. */
  maxDeliveries?: number;
  /** With `maxDeliveries`: the stream that receives entries given up on, with their error. */
  deadLetter?: string;
}

/** {@link fromRedisStream}'s Observable: demand-aware, and it can tell what it holds. */
export type RedisStreamSource = DemandObservable<RedisStreamMessage> & {
  /** The books of the most recent subscription (all zero before the first). */
  report(): RedisStreamReport;
};

interface ReaderConfig {
  client: RedisStreamClient;
  stream: string;
  group: string;
  consumer: string;
  block: number;
  batch: number;
  createGroup: string | undefined;
  claimIdle: number | undefined;
  maxDeliveries: number | undefined;
  deadLetter: string | undefined;
}

const KEYS: (keyof FromRedisStreamOptions)[] = [
  'client',
  'stream',
  'group',
  'consumer',
  'block',
  'batch',
  'createGroup',
  'claimIdle',
  'maxDeliveries',
  'deadLetter',
];

/**
 * A Redis Streams consumer-group reader whose reads are the downstream demand: each read is
 * `XREADGROUP GROUP group consumer COUNT k BLOCK ms STREAMS stream >` with k the outstanding
 * demand (capped by `batch`), and nothing is read while the demand is 0.
 *
 * Each subscription opens its own connection (`client.duplicate()`) for the blocking reads, so
 * a BLOCK never holds up the acks that go through `client`. One read is in flight at a time.
 * Unsubscribing unblocks a waiting read at once (`CLIENT UNBLOCK` from `client`), records any
 * entries that read still returned as left pending, and closes that connection.
 *
 * Messages are `{ id, fields, deliveries, ack(), reject(error) }`. Nothing is acked by the
 * source: use {@link ackAfter} (or call `ack()` after the work). With `claimIdle`, entries idle
 * in any consumer's pending list longer than that are claimed (XAUTOCLAIM) before new ones are
 * read; with `maxDeliveries` and `deadLetter`, an entry past its last delivery goes to the
 * dead-letter stream with its error and is acked, instead of being retried forever.
 *
 * Connection faults: the source follows the client's reconnect. A read cut by a dropped
 * connection is issued again once the connection is ready (entries that read had been handed
 * stay in the pending list, for `claimIdle`); a group lost with a restarted Redis is recreated
 * when `createGroup` is set. An error reply, or a client that stopped reconnecting, errors the
 * stream with a {@link RedisStreamError}.
 *
 * ## Warnings
 * At-least-once: an entry whose consumer dies mid-work is claimed and done again. Make the sink
 * idempotent (see docs/scale-out.md). `claimIdle` shorter than the work duplicates live work.
 *
 * ## Example
 * ```ts
 * const source = fromRedisStream({ client, stream: 'jobs', group: 'workers', consumer: hostname(),
 *   createGroup: true, claimIdle: 30_000, maxDeliveries: 5, deadLetter: 'jobs:dead' });
 * source.pipe(ackAfter((m) => handle(m.fields), { concurrency: 8 })).subscribe();
 * ```
 *
 * @see {@link ackAfter}, {@link toRedisStream}
 * @param options The client, stream, group and consumer, and the read options.
 * @return A demand-aware Observable of messages, with `report()`.
 */
export function fromRedisStream(options: FromRedisStreamOptions): RedisStreamSource {
  const config = resolveReaderConfig(options);
  let latest = new Ledger(ledgerConfig(config));
  latest.active = false;
  const source = demandSource<RedisStreamMessage>(NAME, (sink) => {
    latest = new Ledger(ledgerConfig(config));
    return startReader(config, sink, latest);
  }) as RedisStreamSource;
  Object.defineProperty(source, 'report', { value: () => latest.report(), enumerable: false });
  return source;
}

function ledgerConfig(config: ReaderConfig) {
  return { operator: NAME, ...config };
}

function resolveReaderConfig(options: FromRedisStreamOptions): ReaderConfig {
  const opts = optionsObject<FromRedisStreamOptions>(NAME, options, true, KEYS);
  const client = opts.client;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.sendCommand !== 'function' ||
    typeof client.duplicate !== 'function'
  ) {
    throw optionTypeError(NAME, 'client', 'a node-redis client (with sendCommand and duplicate)', client);
  }
  const maxDeliveries =
    opts.maxDeliveries === undefined
      ? undefined
      : optionalPositiveInteger(NAME, 'maxDeliveries', opts.maxDeliveries, 1);
  const deadLetter = opts.deadLetter === undefined ? undefined : key('deadLetter', opts.deadLetter);
  if ((maxDeliveries === undefined) !== (deadLetter === undefined)) {
    throw new TypeError(
      `${NAME}: 'maxDeliveries' and 'deadLetter' go together (an entry past its last delivery needs a place to go)`,
    );
  }
  return {
    client,
    stream: key('stream', opts.stream),
    group: key('group', opts.group),
    consumer: key('consumer', opts.consumer),
    block: milliseconds('block', opts.block, 2000),
    batch: optionalPositiveInteger(NAME, 'batch', opts.batch, 100),
    createGroup: groupStart(opts.createGroup),
    claimIdle: opts.claimIdle === undefined ? undefined : milliseconds('claimIdle', opts.claimIdle, 0),
    maxDeliveries,
    deadLetter,
  };
}

function key(parameter: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw optionTypeError(NAME, parameter, 'a non-empty string', value);
  return value;
}

function milliseconds(parameter: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw optionTypeError(NAME, parameter, 'a number of milliseconds', value);
  if (!Number.isInteger(value) || value < 0)
    throw optionRangeError(NAME, parameter, 'a whole number of ms >= 0', value);
  return timerDelay(NAME, parameter, value);
}

function groupStart(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return '$';
  if (typeof value === 'object' && value !== null) {
    const { start } = optionsObject<{ start: string }>(NAME, value, true, ['start'], 'createGroup');
    return key('createGroup.start', start);
  }
  throw optionTypeError(NAME, 'createGroup', "a boolean or { start: '0' | '$' | id }", value);
}

/** The reader of one subscription; see {@link fromRedisStream}. */
function startReader(config: ReaderConfig, sink: ProducerSink<RedisStreamMessage>, ledger: Ledger): Producer {
  const { client, stream, group, consumer } = config;
  let connection: RedisConnection | undefined;
  let connectionId: string | undefined;
  let ready = false;
  let reading = false;
  let waitingForReconnect = false;
  let stopped = false;
  let unblockTimer: ReturnType<typeof setTimeout> | undefined;
  let claimCursor = '0-0';
  let nextClaimAt = 0;
  let buffer: RedisStreamMessage[] = [];
  let head = 0;

  function open(): void {
    const conn = client.duplicate();
    connection = conn;
    // node-redis emits 'error' on every failed reconnect; without a listener that is a crash.
    conn.on('error', noop);
    conn.on('ready', onReconnected);
    conn.on('end', onEnded);
    conn.connect().then(setUp, onSetUpError);
  }

  /** Learns this connection's id (for CLIENT UNBLOCK), makes the group, then starts reading. */
  function setUp(): void {
    const conn = connection;
    if (stopped || conn === undefined) return;
    conn
      .sendCommand(['CLIENT', 'ID'])
      .then((id) => {
        connectionId = String(id);
        return config.createGroup === undefined ? undefined : ensureGroup(conn, config.createGroup);
      })
      .then(() => {
        if (stopped) return;
        ready = true;
        sink.schedulePump();
      }, onSetUpError);
  }

  function ensureGroup(conn: RedisConnection, start: string): Promise<unknown> {
    return conn.sendCommand(['XGROUP', 'CREATE', stream, group, start, 'MKSTREAM']).catch((err: unknown) => {
      if (replyCode(err) !== 'BUSYGROUP') throw err;
    });
  }

  function onSetUpError(err: unknown): void {
    if (stopped) return;
    if (isConnectionFault(err, connection)) awaitReconnect();
    else fail('XGROUP', `setting up the reader failed: ${errorText(err)}`, err);
  }

  function awaitReconnect(): void {
    ready = false;
    if (connection !== undefined && !connection.isOpen) {
      fail('XREADGROUP', 'the connection to Redis closed and the client does not reconnect');
      return;
    }
    waitingForReconnect = true;
    if (connection?.isReady === true) onReconnected();
  }

  function onReconnected(): void {
    if (!waitingForReconnect || stopped) return;
    waitingForReconnect = false;
    setUp();
  }

  function onEnded(): void {
    if (!stopped) fail('XREADGROUP', 'the connection to Redis closed and the client does not reconnect');
  }

  function fail(command: string, message: string, cause?: unknown): void {
    if (!stopped) sink.error(new RedisStreamError(NAME, command, message, cause));
  }

  function pump(): void {
    while (sink.demand > 0 && head < buffer.length) {
      const message = buffer[head] as RedisStreamMessage;
      buffer[head++] = undefined as never;
      ledger.markEmitted(message);
      sink.next(message);
    }
    if (head === buffer.length && head > 0) {
      buffer = [];
      head = 0;
    }
    if (!stopped && ready && !reading && sink.demand > 0 && buffer.length === 0) read();
  }

  function read(): void {
    const count = Math.min(sink.demand, config.batch);
    reading = true;
    if (config.claimIdle !== undefined && (claimCursor !== '0-0' || Date.now() >= nextClaimAt))
      claim(count, config.claimIdle);
    else readNew(count);
  }

  function readNew(count: number): void {
    // With claimIdle, a read must not wait past the next claim sweep.
    const block = config.claimIdle === undefined ? config.block : Math.min(config.block, Math.max(config.claimIdle, 1));
    const args = [
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      String(count),
      'BLOCK',
      String(block),
      'STREAMS',
      stream,
      '>',
    ];
    (connection as RedisConnection)
      .sendCommand(args)
      .then(
        (reply) => received(parseReadReply(reply).map((e) => ledger.deliver(e.id, e.fields, 1, false))),
        onReadError,
      );
  }

  function claim(count: number, idle: number): void {
    const conn = connection as RedisConnection;
    conn
      .sendCommand(['XAUTOCLAIM', stream, group, consumer, String(idle), claimCursor, 'COUNT', String(count)])
      .then(async (reply) => {
        const { cursor, entries } = parseClaimReply(reply);
        claimCursor = cursor;
        if (cursor === '0-0') nextClaimAt = Date.now() + idle;
        return claimed(conn, entries);
      })
      .then(received, onReadError);
  }

  /** XAUTOCLAIM does not say how often an entry was delivered; the pending list does. */
  async function claimed(conn: RedisConnection, entries: RawEntry[]): Promise<RedisStreamMessage[]> {
    if (entries.length === 0) return [];
    const first = (entries[0] as RawEntry).id;
    const last = (entries[entries.length - 1] as RawEntry).id;
    const counts = parsePendingCounts(
      await conn.sendCommand(['XPENDING', stream, group, first, last, String(entries.length), consumer]),
    );
    const messages: RedisStreamMessage[] = [];
    for (const entry of entries) {
      const deliveries = counts.get(entry.id) ?? 1;
      const message = ledger.deliver(entry.id, entry.fields, deliveries, true);
      if (config.maxDeliveries !== undefined && deliveries > config.maxDeliveries) {
        ledger.deadLetterOnArrival(message, deliveries).catch((err: unknown) => sink.error(err));
      } else messages.push(message);
    }
    return messages;
  }

  function received(messages: RedisStreamMessage[]): void {
    reading = false;
    if (stopped) {
      release();
      return;
    }
    buffer = messages;
    head = 0;
    sink.schedulePump();
  }

  function onReadError(err: unknown): void {
    reading = false;
    if (stopped) {
      release();
      return;
    }
    if (replyCode(err) === 'NOGROUP' && config.createGroup !== undefined) {
      // Redis restarted without the group (no persistence): make it again and go on.
      ready = false;
      setUp();
    } else if (isConnectionFault(err, connection)) awaitReconnect();
    else fail('XREADGROUP', `reading '${stream}' failed: ${errorText(err)}`, err);
  }

  /** Ends a read that is waiting in BLOCK, so that teardown does not wait `block` ms. */
  function unblock(): void {
    unblockTimer = undefined;
    if (!reading || connectionId === undefined) return;
    client.sendCommand(['CLIENT', 'UNBLOCK', connectionId]).then(
      (reply) => {
        // 0: the read had not reached the server yet (or is not blocking); try again shortly.
        if (reading && Number(reply) === 0) unblockTimer = setTimeout(unblock, 5);
      },
      () => release(),
    );
  }

  function release(): void {
    if (unblockTimer !== undefined) clearTimeout(unblockTimer);
    unblockTimer = undefined;
    const conn = connection;
    connection = undefined;
    ledger.active = false;
    if (conn === undefined) return;
    try {
      conn.destroy();
    } catch {
      // Already closed: nothing is held.
    }
  }

  function teardown(): void {
    stopped = true;
    ready = false;
    buffer = [];
    head = 0;
    // A read in flight may still hand entries to this consumer; wait for it, so they are counted
    // as left. Anything else in flight on this connection (setup) delivers nothing.
    if (reading && connectionId !== undefined) unblock();
    else release();
  }

  return { connect: open, pump, teardown };
}

function noop(): void {}
