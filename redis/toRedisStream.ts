import { type OperatorFunction } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import { optionalFunction, optionalPositiveInteger, optionsObject, positiveInteger } from '../lib/core/validate.js';
import { orderedMerge } from '../operators/orderedMerge.js';
import { parseInfoRows, type RedisCommander } from './client.js';
import { RedisStreamError, errorText } from './errors.js';

const NAME = 'toRedisStream';

/** Pause while a consumer group is this far behind. */
export interface LagLimit {
  /** The group whose lag (XINFO GROUPS `lag`: entries not yet delivered to it) is watched. */
  group: string;
  /** The most entries the group may be behind; writing waits rather than pass it. */
  max: number;
  /** How often a paused writer asks again, in ms (default 50). */
  poll?: number;
}

/** The options of {@link toRedisStream}. */
export interface ToRedisStreamOptions<T> {
  /** A connected node-redis client. */
  client: RedisCommander;
  /** The stream key written to. */
  stream: string;
  /** The fields of a value's entry (default: the value itself, a record of strings). */
  fields?: (value: T) => Record<string, string | number>;
  /** How many XADDs may be in flight (default 16): the demand asked of the source is the free window. */
  window?: number;
  /** Pause while this group is more than `max` entries behind. */
  lagLimit?: LagLimit;
}

const KEYS: (keyof ToRedisStreamOptions<unknown>)[] = ['client', 'stream', 'fields', 'window', 'lagLimit'];

/**
 * Writes each value to a Redis stream with XADD and emits the ids Redis assigned, in order.
 *
 * At most `window` XADDs are in flight; from a demand-aware source (fromPull, channel, another
 * library stage) exactly the free window is requested, so the producer is paused by Redis's
 * pace. With `lagLimit`, writing also waits while the group's lag would exceed `max`, so a fast
 * producer cannot fill Redis faster than the consumers drain it: the lag never exceeds `max`.
 * The lag is read with XINFO GROUPS only when the writes since the last reading could have
 * reached the bound.
 *
 * A push source is absorbed like by {@link mergeWorkers}: a bounded queue (capacity 1024) that
 * errors when full. An XADD that fails ends the stream with a {@link RedisStreamError}.
 *
 * ## Example
 * ```ts
 * fromPull(readJobs()).pipe(
 *   toRedisStream({ client, stream: 'jobs', lagLimit: { group: 'workers', max: 10_000 } }),
 * ).subscribe();
 * ```
 *
 * @see {@link fromRedisStream}
 * @param options The client, the stream, and the window and lag bound.
 * @return A function that returns a demand-aware Observable of the new entries' ids.
 */
export function toRedisStream<T>(options: ToRedisStreamOptions<T>): OperatorFunction<T, string> {
  const opts = optionsObject<ToRedisStreamOptions<T>>(NAME, options, true, KEYS);
  const client = opts.client;
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function') {
    throw optionTypeError(NAME, 'client', 'a node-redis client (with sendCommand)', client);
  }
  const stream = opts.stream;
  if (typeof stream !== 'string' || stream.length === 0)
    throw optionTypeError(NAME, 'stream', 'a non-empty string', stream);
  const fields = optionalFunction<(value: T) => Record<string, string | number>>(NAME, 'fields', opts.fields);
  const window = optionalPositiveInteger(NAME, 'window', opts.window, 16);
  const gate = opts.lagLimit === undefined ? undefined : lagGate(client, stream, resolveLagLimit(opts.lagLimit));
  return (source) => {
    const lag = gate?.();
    return source.pipe(
      orderedMerge((value: T) => write(client, stream, fieldsOf(value, fields), lag), { concurrency: window }),
    );
  };
}

function resolveLagLimit(value: unknown): Required<LagLimit> {
  const opts = optionsObject<LagLimit>(NAME, value, true, ['group', 'max', 'poll'], 'lagLimit');
  if (typeof opts.group !== 'string' || opts.group.length === 0) {
    throw optionTypeError(NAME, 'lagLimit.group', 'a non-empty string', opts.group);
  }
  return {
    group: opts.group,
    max: positiveInteger(NAME, 'lagLimit.max', opts.max),
    poll: optionalPositiveInteger(NAME, 'lagLimit.poll', opts.poll, 50),
  };
}

function fieldsOf<T>(value: T, fields: ((value: T) => Record<string, string | number>) | undefined): string[] {
  const record = fields === undefined ? value : fields(value);
  if (typeof record !== 'object' || record === null) {
    throw optionTypeError(NAME, 'fields', 'to give a record of fields', record);
  }
  const args: string[] = [];
  for (const [field, v] of Object.entries(record)) args.push(field, String(v));
  if (args.length === 0) throw new TypeError(`${NAME}: an entry needs at least one field`);
  return args;
}

/** Waits for the lag gate (if any), then XADDs; XADDs leave in start order on one connection. */
async function write(
  client: RedisCommander,
  stream: string,
  fields: string[],
  lag: LagWaiter | undefined,
): Promise<string> {
  if (lag !== undefined) await lag.admit();
  try {
    return String(await client.sendCommand(['XADD', stream, '*', ...fields]));
  } catch (err) {
    throw new RedisStreamError(NAME, 'XADD', `XADD to '${stream}' failed: ${errorText(err)}`, err);
  } finally {
    lag?.settled();
  }
}

/** One subscription's view of the group's lag. */
interface LagWaiter {
  /** Resolves when one more entry may be written without the lag passing the bound. */
  admit(): Promise<void>;
  /** An admitted XADD is over (written or failed). */
  settled(): void;
}

/**
 * The lag gate. `estimate` never undercounts the group's lag: it is the lag at the last XINFO,
 * plus every XADD that had not settled when that XINFO was sent (it may not be in the reading),
 * plus those admitted since. A writer is admitted only while the estimate is below `max`, so the
 * lag never exceeds it; at the bound, XINFO is read again (every `poll` ms while the group stays
 * behind). Waiting writers share that one reading and are admitted in order.
 */
function lagGate(client: RedisCommander, stream: string, limit: Required<LagLimit>): () => LagWaiter {
  return () => {
    let estimate = Infinity; // unknown until the first reading
    let admitted = 0;
    let settled = 0;
    let checking: Promise<void> | undefined;
    const check = async (): Promise<void> => {
      for (;;) {
        const unsettledAtSend = admitted - settled;
        const admittedAtSend = admitted;
        const lag = await readLag(client, stream, limit.group);
        estimate = lag + unsettledAtSend + (admitted - admittedAtSend);
        if (estimate < limit.max) return;
        await new Promise((resolve) => setTimeout(resolve, limit.poll));
      }
    };
    return {
      async admit() {
        while (estimate >= limit.max) {
          checking ??= check().finally(() => (checking = undefined));
          await checking;
        }
        estimate++;
        admitted++;
      },
      settled() {
        settled++;
      },
    };
  };
}

async function readLag(client: RedisCommander, stream: string, group: string): Promise<number> {
  let reply: unknown;
  try {
    reply = await client.sendCommand(['XINFO', 'GROUPS', stream]);
  } catch (err) {
    // A stream that does not exist yet has no backlog.
    if (err instanceof Error && /no such key/i.test(err.message)) return 0;
    throw new RedisStreamError(NAME, 'XINFO', `reading the lag of '${group}' failed: ${errorText(err)}`, err);
  }
  const row = parseInfoRows(reply).find((r) => String(r['name']) === group);
  if (row === undefined) {
    throw new RedisStreamError(NAME, 'XINFO', `the group '${group}' of lagLimit does not exist on '${stream}'`);
  }
  const lag = row['lag'];
  // lag is nil when Redis cannot tell (entries deleted in the group's range): count what waits.
  if (lag === null || lag === undefined) return Number(row['pending'] ?? 0);
  return Number(lag);
}
