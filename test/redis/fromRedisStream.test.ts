import { Subject, firstValueFrom, lastValueFrom, pipe, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedBuffer, drainOnComplete, type DrainReport } from '../../index.js';
import { ackAfter, fromRedisStream, RedisStreamError, type RedisStreamMessage } from '../../redis/index.js';
import { probe } from '../helpers.js';
import { connectClient, destroyQuietly, redisMissing, startRedis, type TestRedis } from './server.js';
import { addEntries, pendingIds, sleep, sorted, spyOnReads, until } from './util.js';

const suite = redisMissing === undefined ? describe : describe.skip;

suite(redisMissing === undefined ? 'fromRedisStream' : `fromRedisStream (skipped: ${redisMissing})`, () => {
  let server: TestRedis;
  let client: Awaited<ReturnType<typeof connectClient>>;
  let n = 0;
  const names = () => {
    n++;
    return { stream: `s${n}`, group: 'g', consumer: `c${n}` };
  };
  const group0 = async (stream: string) => client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '0', 'MKSTREAM']);

  beforeAll(async () => {
    server = await startRedis();
    client = await connectClient(server.url);
  });
  afterAll(async () => {
    if (client !== undefined) destroyQuietly(client);
    await server?.stop();
  });

  it('emits { id, fields, deliveries, ack } and acks only when asked; the report balances', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    const ids = await addEntries(client, stream, 5);
    const source = fromRedisStream({ client, stream, group, consumer, block: 50 });
    const got = await firstValueFrom(source.pipe(take(5), toArray()));
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got[2]?.fields).toEqual({ n: '2' });
    expect(got.every((m) => m.deliveries === 1)).toBe(true);
    expect(await pendingIds(client, stream, group, consumer)).toEqual(ids);
    await Promise.all([got[0]!.ack(), got[0]!.ack(), got[1]!.ack()]);
    expect(got[0]!.ack()).toBe(got[0]!.ack());
    expect(await pendingIds(client, stream, group, consumer)).toEqual(ids.slice(2));
    await until(() => !source.report().active, 'the reader to close');
    const r = source.report();
    expect(r).toMatchObject({ delivered: 5, emitted: 5, acked: 2, inWork: ids.slice(2), unemitted: [] });
    expect(r.delivered).toBe(r.acked + r.ackedBefore + r.rejected + r.deadLettered + r.left.length);
  });

  it('asks COUNT <= outstanding demand (and <= batch), and sends no XREADGROUP while paused', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    await addEntries(client, stream, 40);
    const monitor = client.duplicate();
    await monitor.connect();
    const seen: string[] = [];
    await monitor.monitor((line) => {
      if (line.includes('"XREADGROUP"') && line.includes(`"${consumer}"`)) seen.push(line);
    });
    let requested = 0;
    const reads: { count: number; outstanding: number }[] = [];
    const spied = spyOnReads(client, (args) => {
      if (args[0] === 'XREADGROUP') reads.push({ count: Number(args[5]), outstanding: requested - p.values.length });
      if (args[0] === 'XAUTOCLAIM') reads.push({ count: Number(args[7]), outstanding: requested - p.values.length });
    });
    // claimIdle: a claim sweep (XAUTOCLAIM, COUNT = demand too) runs first, then reads.
    const source = fromRedisStream({ client: spied, stream, group, consumer, batch: 4, block: 50, claimIdle: 60_000 });
    const p = probe(source);
    await sleep(150);
    expect(reads).toEqual([]); // demand 0: nothing read at all
    const ask = (k: number) => {
      requested += k;
      p.request(k);
    };
    ask(3);
    await until(() => p.values.length === 3, '3 values');
    await sleep(60); // MONITOR lines arrive after the commands
    const before = { spy: reads.length, monitor: seen.length };
    await sleep(300); // paused: demand 0
    expect({ spy: reads.length, monitor: seen.length }).toEqual(before);
    ask(10);
    await until(() => p.values.length === 13, '13 values');
    ask(1);
    ask(1);
    await until(() => p.values.length === 15, '15 values');
    requested = Infinity;
    p.request(Infinity);
    await until(() => p.values.length === 40, '40 values');
    p.cancel();
    destroyQuietly(monitor);
    expect(reads.length).toBeGreaterThan(5);
    for (const read of reads) {
      expect(read.count).toBeGreaterThan(0);
      expect(read.count).toBeLessThanOrEqual(Math.min(read.outstanding, 4));
    }
    expect(seen.length).toBeGreaterThanOrEqual(reads.length - 1); // the server saw the same reads
    expect(p.errors).toEqual([]);
  });

  it('unsubscribing unblocks a waiting read at once and closes its connection', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    // Connections blocked in XREADGROUP (CLIENT LIST: flags=b, cmd=xreadgroup).
    const blockedReads = async () =>
      (await client.sendCommand<string>(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => / flags=b /.test(line) && / cmd=xreadgroup/.test(line)).length;
    const source = fromRedisStream({ client, stream, group, consumer, block: 30_000 });
    const sub = source.subscribe();
    await until(async () => (await blockedReads()) === 1, 'a blocked read');
    const t0 = Date.now();
    sub.unsubscribe();
    await until(() => !source.report().active, 'the reader to close', 2000);
    const elapsed = Date.now() - t0;
    expect(await blockedReads()).toBe(0);
    expect(elapsed).toBeLessThan(1000); // not the 30 s BLOCK
    expect(source.report()).toMatchObject({ delivered: 0, left: [] });
  });

  it('take(n) stops it; the report names exactly the ids it leaves pending', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    const ids = await addEntries(client, stream, 20);
    const source = fromRedisStream({ client, stream, group, consumer, block: 50 });
    const got = await lastValueFrom(source.pipe(take(5), toArray()));
    await got[0]!.ack();
    await until(() => !source.report().active, 'the reader to close');
    const r = source.report();
    const pending = await pendingIds(client, stream, group, consumer);
    expect(sorted(r.left)).toEqual(pending);
    expect(r.inWork).toEqual(ids.slice(1, 5));
    expect(r.delivered).toBe(r.acked + r.left.length);
  });

  it('drainOnComplete + stop: in-flight entries are acked, the rest stays for other consumers', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    const ids = await addEntries(client, stream, 60);
    const stop = new Subject<void>();
    const processed: string[] = [];
    const source = fromRedisStream({ client, stream, group, consumer, block: 50, batch: 3 });
    let report: DrainReport | undefined;
    const work = async (m: RedisStreamMessage) => {
      await sleep(20);
      processed.push(m.id);
    };
    const done = lastValueFrom(
      source.pipe(
        drainOnComplete(pipe(boundedBuffer({ capacity: 4, overflow: 'block' }), ackAfter(work, { concurrency: 3 })), {
          stop,
          deadline: 5000,
          onReport: (r) => (report = r),
        }),
        toArray(),
      ),
    );
    await until(() => processed.length >= 6, '6 processed');
    stop.next();
    await done;
    await until(() => !source.report().active, 'the reader to close');
    const r = source.report();
    expect(report?.outcome).toBe('drained');
    // Everything handed to this consumer before the stop was finished and acked...
    expect(r.acked).toBe(processed.length);
    expect(r.left).toEqual([]);
    expect(await pendingIds(client, stream, group)).toEqual([]);
    expect(processed.length).toBeLessThan(ids.length);
    // ... and the rest is still there, for another consumer.
    const other = fromRedisStream({ client, stream, group, consumer: `${consumer}-b`, block: 50 });
    const rest = await firstValueFrom(other.pipe(take(ids.length - processed.length), toArray()));
    expect(sorted([...processed, ...rest.map((m) => m.id)])).toEqual(ids);
  });

  it('drainOnComplete past its deadline: the aborted entries stay pending and the source names exactly them', async () => {
    const { stream, group, consumer } = names();
    await group0(stream);
    await addEntries(client, stream, 30, (i) => ({ n: String(i), hang: i % 5 === 4 ? '1' : '0' }));
    const stop = new Subject<void>();
    const processed: string[] = [];
    const source = fromRedisStream({ client, stream, group, consumer, block: 50 });
    const work = (m: RedisStreamMessage, { signal }: { signal: AbortSignal }) =>
      new Promise<void>((resolve, reject) => {
        if (m.fields['hang'] === '1') {
          signal.addEventListener('abort', () => reject(signal.reason as Error));
          return;
        }
        setTimeout(() => {
          processed.push(m.id);
          resolve();
        }, 5);
      });
    const done = lastValueFrom(
      source.pipe(drainOnComplete(ackAfter(work, { concurrency: 4 }), { stop, deadline: 200 }), toArray()),
    );
    await until(() => processed.length >= 8, '8 processed');
    await sleep(30);
    stop.next();
    await done;
    await until(() => !source.report().active, 'the reader to close');
    const r = source.report();
    const pending = await pendingIds(client, stream, group, consumer);
    expect(r.left.length).toBeGreaterThan(0);
    expect(sorted(r.left)).toEqual(pending);
    for (const id of r.left) expect(processed).not.toContain(id);
    expect(r.acked).toBe(processed.length);
    expect(r.delivered).toBe(r.acked + r.rejected + r.left.length);
  });

  it('an error reply (no group, no createGroup) errors the stream with a RedisStreamError', async () => {
    const { stream, consumer } = names();
    const err = await lastValueFrom(fromRedisStream({ client, stream, group: 'none', consumer })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisStreamError);
    expect(String(err)).toMatch(/fromRedisStream: .*NOGROUP/);
  });

  it('createGroup makes the group (idempotently) and reads from its start', async () => {
    const { stream, group, consumer } = names();
    await addEntries(client, stream, 3);
    const a = await firstValueFrom(
      fromRedisStream({ client, stream, group, consumer, createGroup: { start: '0' } }).pipe(take(3), toArray()),
    );
    expect(a.map((m) => m.fields['n'])).toEqual(['0', '1', '2']);
    const again = fromRedisStream({ client, stream, group, consumer: `${consumer}b`, createGroup: true, block: 30 });
    const sub = again.subscribe();
    await sleep(100);
    sub.unsubscribe();
    expect(again.report().delivered).toBe(0);
  });
});

suite(redisMissing === undefined ? 'ackAfter failures' : `ackAfter failures (skipped: ${redisMissing})`, () => {
  let server: TestRedis;
  let client: Awaited<ReturnType<typeof connectClient>>;
  beforeAll(async () => {
    server = await startRedis();
    client = await connectClient(server.url);
  });
  afterAll(async () => {
    if (client !== undefined) destroyQuietly(client);
    await server?.stop();
  });

  it("errors: 'fail-fast' rejects the entry (it stays pending), then ends the stream with the work's error", async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'ff', 'g', '0', 'MKSTREAM']);
    const ids = await addEntries(client, 'ff', 3);
    const source = fromRedisStream({ client, stream: 'ff', group: 'g', consumer: 'c', block: 50 });
    const boom = new Error('boom');
    const err = await lastValueFrom(
      source.pipe(
        ackAfter(
          async (m) => {
            if (m.id === ids[0]) throw boom;
            await sleep(50);
          },
          { concurrency: 1, errors: 'fail-fast' },
        ),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    await until(() => !source.report().active, 'the reader to close');
    expect(source.report()).toMatchObject({ rejected: 1, acked: 0 });
    expect(await pendingIds(client, 'ff', 'g')).toEqual(ids.slice(0, 1));
  });

  it('a throwing onError ends the stream with what it threw', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'oe', 'g', '0', 'MKSTREAM']);
    await addEntries(client, 'oe', 2);
    const thrown = new Error('from onError');
    const err = await lastValueFrom(
      fromRedisStream({ client, stream: 'oe', group: 'g', consumer: 'c', block: 50 }).pipe(
        ackAfter(
          () => {
            throw new Error('work failed');
          },
          {
            concurrency: 1,
            onError: () => {
              throw thrown;
            },
          },
        ),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBe(thrown);
  });

  it('an XACK that Redis refuses ends the stream with a RedisStreamError naming XACK (never swallowed)', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'wrong', 'g', '0', 'MKSTREAM']);
    const [id] = await addEntries(client, 'wrong', 1);
    const err = await lastValueFrom(
      fromRedisStream({ client, stream: 'wrong', group: 'g', consumer: 'c', block: 50 }).pipe(
        ackAfter(
          async () => {
            // The key stops being a stream while the work runs: XACK gets WRONGTYPE.
            await client.sendCommand(['DEL', 'wrong']);
            await client.sendCommand(['SET', 'wrong', 'x']);
          },
          { concurrency: 1 },
        ),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisStreamError);
    expect((err as RedisStreamError).command).toBe('XACK');
    expect(String(err)).toMatch(new RegExp(`XACK of ${id} failed .*WRONGTYPE`));
  });
});

describe('fromRedisStream options', () => {
  const client = { sendCommand: () => Promise.resolve(null), duplicate: () => ({}) } as never;
  it('fails fast on bad or unknown options, naming the parameter', () => {
    expect(() => fromRedisStream({ client, stream: 's', group: 'g', consumer: 'c', batchSize: 3 } as never)).toThrow(
      /fromRedisStream: unknown option 'batchSize'; did you mean 'batch'/,
    );
    expect(() => fromRedisStream({ client, stream: '', group: 'g', consumer: 'c' })).toThrow(/'stream' must be/);
    expect(() => fromRedisStream({ client, stream: 's', group: 'g', consumer: 'c', block: -1 })).toThrow(/'block'/);
    expect(() => fromRedisStream({ client, stream: 's', group: 'g', consumer: 'c', maxDeliveries: 3 })).toThrow(
      /'maxDeliveries' and 'deadLetter' go together/,
    );
    expect(() => fromRedisStream({ client: {} as never, stream: 's', group: 'g', consumer: 'c' })).toThrow(/'client'/);
    expect(() => ackAfter(() => [], { concurrency: 2, retry: { count: 1 } } as never)).toThrow(
      /ackAfter: unknown option 'retry'/,
    );
  });
});
