import { lastValueFrom, toArray, type Subscription } from 'rxjs';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPull } from '../../index.js';
import {
  ackAfter,
  fromRedisStream,
  RedisStreamError,
  toRedisStream,
  type RedisCommander,
  type RedisStreamMessage,
} from '../../redis/index.js';
import { connectClient, destroyQuietly, redisMissing, startRedis, type TestRedis } from './server.js';
import { addEntries, pendingIds, sleep, sorted, until, xrange } from './util.js';

const suite = redisMissing === undefined ? describe : describe.skip;
const title = (name: string) => (redisMissing === undefined ? name : `${name} (skipped: ${redisMissing})`);

type Client = Awaited<ReturnType<typeof connectClient>>;

function* count(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

suite(title('dead letters, toRedisStream'), () => {
  let server: TestRedis;
  let client: Client;
  beforeAll(async () => {
    server = await startRedis();
    client = await connectClient(server.url);
  });
  afterAll(async () => {
    if (client !== undefined) destroyQuietly(client);
    await server?.stop();
  });

  it('an entry whose work always fails ends in the dead-letter stream after maxDeliveries, and the rest goes on', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'dl', 'g', '0', 'MKSTREAM']);
    const ids = await addEntries(client, 'dl', 10, (i) => ({ n: String(i), poison: i === 3 ? '1' : '0' }));
    const processed: string[] = [];
    const outcomes: string[] = [];
    const source = fromRedisStream({
      client,
      stream: 'dl',
      group: 'g',
      consumer: 'c',
      block: 50,
      claimIdle: 60,
      maxDeliveries: 3,
      deadLetter: 'dl:dead',
    });
    const work = async (m: RedisStreamMessage) => {
      if (m.fields['poison'] === '1') throw new Error(`poison pill at delivery ${m.deliveries}`);
      processed.push(m.id);
    };
    const sub = source
      .pipe(ackAfter(work, { concurrency: 2, onError: (_e, _m, outcome) => outcomes.push(outcome) }))
      .subscribe();
    await until(async () => Number(await client.sendCommand(['XLEN', 'dl:dead'])) === 1, 'a dead letter');
    await until(() => processed.length === 9, 'the rest processed');
    sub.unsubscribe();
    expect(outcomes).toEqual(['pending', 'pending', 'dead-lettered']);
    expect(sorted(processed)).toEqual(ids.filter((_, i) => i !== 3));
    const [[, record] = ['', {}]] = await xrange(client, 'dl:dead');
    expect(record).toMatchObject({
      n: '3',
      'dead-letter:stream': 'dl',
      'dead-letter:id': ids[3],
      'dead-letter:deliveries': '3',
      'dead-letter:error': 'Error: poison pill at delivery 3',
    });
    expect(await pendingIds(client, 'dl', 'g')).toEqual([]);
    expect(source.report()).toMatchObject({ rejected: 2, deadLettered: 1, acked: 9, left: [] });
  });

  it('an entry claimed past maxDeliveries (its consumers kept dying) is dead-lettered without being emitted', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'dl2', 'g', '0', 'MKSTREAM']);
    const [id] = await addEntries(client, 'dl2', 1);
    await client.sendCommand(['XREADGROUP', 'GROUP', 'g', 'ghost', 'COUNT', '1', 'STREAMS', 'dl2', '>']);
    await client.sendCommand(['XCLAIM', 'dl2', 'g', 'ghost', '0', id!, 'RETRYCOUNT', '5']);
    await sleep(30);
    const emitted: string[] = [];
    const source = fromRedisStream({
      client,
      stream: 'dl2',
      group: 'g',
      consumer: 'c',
      block: 20,
      claimIdle: 20,
      maxDeliveries: 3,
      deadLetter: 'dl2:dead',
    });
    const sub = source.subscribe((m) => emitted.push(m.id));
    await until(async () => Number(await client.sendCommand(['XLEN', 'dl2:dead'])) === 1, 'a dead letter');
    sub.unsubscribe();
    expect(emitted).toEqual([]);
    expect(await pendingIds(client, 'dl2', 'g')).toEqual([]);
    const [[, record] = ['', {}]] = await xrange(client, 'dl2:dead');
    expect(record['dead-letter:error']).toMatch(/^Error: delivered 6 times \(maxDeliveries 3\)/);
  });

  it('toRedisStream keeps at most `window` XADDs in flight and emits the ids in order', async () => {
    let inFlight = 0;
    let most = 0;
    const spied: RedisCommander = {
      sendCommand(args) {
        if (args[0] !== 'XADD') return client.sendCommand(args);
        inFlight++;
        most = Math.max(most, inFlight);
        return client.sendCommand(args).finally(() => inFlight--);
      },
    };
    const ids = await lastValueFrom(
      fromPull(count(300)).pipe(
        toRedisStream({ client: spied, stream: 'w', fields: (i: number) => ({ i }), window: 4 }),
        toArray(),
      ),
    );
    expect(most).toBe(4);
    expect(ids).toEqual(sorted(ids));
    const entries = await xrange(client, 'w');
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map(([, f]) => f['i'])).toEqual([...count(300)].map(String));
  });

  it('toRedisStream with lagLimit pauses while the group is behind, and goes on as it catches up', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'lag', 'g', '$', 'MKSTREAM']);
    const max = 50;
    const window = 4;
    let written = 0;
    const done = lastValueFrom(
      fromPull(count(400)).pipe(
        toRedisStream({
          client,
          stream: 'lag',
          fields: (i: number) => ({ i }),
          window,
          lagLimit: { group: 'g', max, poll: 10 },
        }),
        toArray(),
      ),
    ).then((ids) => (written = ids.length));
    await sleep(300);
    const stalled = Number(await client.sendCommand(['XLEN', 'lag']));
    expect(stalled).toBeGreaterThan(0);
    expect(stalled).toBeLessThanOrEqual(max); // no consumer: the producer waits at the bound
    expect(written).toBe(0);
    let worst = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await client.sendCommand<Record<string, unknown>[]>(['XINFO', 'GROUPS', 'lag']);
        worst = Math.max(worst, Number(rows[0]?.['lag'] ?? 0));
        await sleep(5);
      }
    })();
    const consumer: Subscription = fromRedisStream({
      client,
      stream: 'lag',
      group: 'g',
      consumer: 'c',
      block: 20,
      batch: 10,
    })
      .pipe(ackAfter(() => sleep(1), { concurrency: 4 }))
      .subscribe();
    await done;
    sampling = false;
    await sampler;
    consumer.unsubscribe();
    expect(written).toBe(400);
    expect(worst).toBeLessThanOrEqual(max);
  });
});

suite(title('connection faults'), () => {
  let server: TestRedis;
  let client: Client;
  beforeAll(async () => {
    server = await startRedis();
    client = await connectClient(server.url);
  });
  afterAll(async () => {
    if (client !== undefined) destroyQuietly(client);
    await server?.stop();
  });

  it('connections dropped mid-run (CLIENT KILL): the source resumes, nothing unprocessed is acked, everything ends acked', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'drop', 'g', '0', 'MKSTREAM']);
    const ids = await addEntries(client, 'drop', 200);
    const monitorClient = await connectClient(server.url);
    const acked = new Set<string>();
    await monitorClient.monitor((line) => {
      const match = /"XACK" "drop" "g" "([^"]+)"/.exec(line);
      if (match !== null) acked.add(match[1]!);
    });
    const processed = new Set<string>();
    const ackErrors: RedisStreamError[] = [];
    const source = fromRedisStream({
      client,
      stream: 'drop',
      group: 'g',
      consumer: 'c',
      block: 50,
      batch: 5,
      claimIdle: 300,
    });
    const errors: unknown[] = [];
    const sub = source
      .pipe(
        ackAfter(
          async (m) => {
            await sleep(2);
            processed.add(m.id);
          },
          { concurrency: 4, onAckError: (err) => ackErrors.push(err) },
        ),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    await until(() => processed.size >= 40, '40 processed');
    // Kills every normal connection: the test's client (acks in flight fail), the monitor, the source's reader.
    await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'no']).catch(() => undefined);
    await until(
      async () => processed.size === ids.length && (await pendingIds(client, 'drop', 'g')).length === 0,
      'everything processed and acked after the drop',
      20_000,
    );
    sub.unsubscribe();
    destroyQuietly(monitorClient);
    expect(errors).toEqual([]);
    expect(client.errors.length).toBeGreaterThan(0); // the drop did happen
    // An XACK only ever followed the work (those seen before the monitor was killed too).
    for (const id of acked) expect(processed.has(id)).toBe(true);
    for (const err of ackErrors) expect(err).toBeInstanceOf(RedisStreamError);
  });

  it('Redis restarted (empty): with createGroup it resumes on the new server; ack failures are reported, not swallowed', async () => {
    const stream = 'restart';
    const processed: string[] = [];
    const ackErrors: RedisStreamError[] = [];
    const errors: unknown[] = [];
    await addEntries(client, stream, 30);
    const source = fromRedisStream({
      client,
      stream,
      group: 'g',
      consumer: 'c',
      block: 50,
      createGroup: { start: '0' },
    });
    const sub = source
      .pipe(
        ackAfter(
          async (m) => {
            await sleep(20);
            processed.push(m.fields['n']!);
          },
          { concurrency: 4, onAckError: (err) => ackErrors.push(err) },
        ),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    await until(() => processed.length >= 8, '8 processed');
    await server.kill();
    await sleep(200);
    await server.restart();
    await until(() => client.isReady, 'the client to reconnect');
    const before = processed.length;
    await addEntries(client, stream, 5, (i) => ({ n: `new-${i}` }));
    await until(() => processed.filter((n) => n.startsWith('new-')).length === 5, 'the new entries processed', 10_000);
    await sleep(100);
    sub.unsubscribe();
    expect(errors).toEqual([]);
    expect(processed.length).toBeGreaterThan(before);
    expect(client.errors.length).toBeGreaterThan(1);
    const r = source.report();
    // Every processed entry's ack was either confirmed by Redis or reported to onAckError.
    expect(r.acked + r.ackedBefore + ackErrors.length).toBe(processed.length);
  });

  it('a client that does not reconnect: a dropped connection errors the stream, clearly', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'noreconnect', 'g', '0', 'MKSTREAM']);
    const fragile = createClient({ url: server.url, socket: { reconnectStrategy: false } });
    fragile.on('error', () => {});
    await fragile.connect();
    let failure: unknown;
    const source = fromRedisStream({ client: fragile, stream: 'noreconnect', group: 'g', consumer: 'c', block: 5000 });
    const sub = source.subscribe({ error: (e: unknown) => (failure = e) });
    await sleep(100);
    await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal']); // SKIPME yes: all but the test's client
    await until(() => failure !== undefined, 'the error', 5000);
    sub.unsubscribe();
    destroyQuietly(fragile);
    expect(failure).toBeInstanceOf(RedisStreamError);
    expect(String(failure)).toMatch(
      /fromRedisStream: the connection to Redis closed and the client does not reconnect/,
    );
    await until(() => !source.report().active, 'the reader to close');
  });

  it('Redis restarted (empty) without createGroup: the stream errors with a clear RedisStreamError', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'gone', 'g', '0', 'MKSTREAM']);
    let failure: unknown;
    const source = fromRedisStream({ client, stream: 'gone', group: 'g', consumer: 'c', block: 50 });
    const sub = source.subscribe({ error: (e: unknown) => (failure = e) });
    await sleep(100);
    await server.kill();
    await server.restart();
    await until(() => failure !== undefined, 'the error', 10_000);
    sub.unsubscribe();
    expect(failure).toBeInstanceOf(RedisStreamError);
    expect(String(failure)).toMatch(/fromRedisStream: reading 'gone' failed: .*NOGROUP/);
    await until(() => !source.report().active, 'the reader to close');
  });
});
