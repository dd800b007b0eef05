// One consumer process of the kill test (kill.test.ts): fromRedisStream + ackAfter at
// concurrency 8, 1-5 ms of work that appends the id to its own log before the ack. SIGTERM
// drains it (drainOnComplete) and exits 0; SIGKILL is the crash under test.
import { closeSync, openSync, writeSync } from 'node:fs';
import { createClient } from 'redis';
import { drainOnComplete } from '../../index.js';
import { ackAfter, fromRedisStream } from '../../redis/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`consumer-child: ${name} is not set`);
  return value;
};

const client = createClient({ url: env('REDIS_URL') });
client.on('error', (err: unknown) => console.error('consumer-child: client error', err));
await client.connect();

const log = openSync(env('LOG'), 'a');
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());

const source = fromRedisStream({
  client,
  stream: env('STREAM'),
  group: env('GROUP'),
  consumer: env('CONSUMER'),
  block: 200,
  claimIdle: Number(env('CLAIM_IDLE')),
});

async function work(id: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 5)));
  writeSync(log, `${id}\n`);
}

source
  .pipe(
    drainOnComplete(
      ackAfter((m) => work(m.id), { concurrency: 8 }),
      { stop: stop.signal, deadline: 5000 },
    ),
  )
  .subscribe({
    complete() {
      closeSync(log);
      void client.close().then(() => process.exit(0));
    },
    error(err: unknown) {
      console.error('consumer-child: failed', err);
      process.exit(1);
    },
  });
// Tell the test we are reading.
process.stdout.write('ready\n');
