import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJobServer, type Job } from '../examples/http-503.js';
import { generatedText, parseInteger, sumRecords } from '../examples/realistic-pipeline.js';

/*
 * The worked examples of the failure-mode catalog (docs/examples/). The server test uses the
 * loopback interface only, on a port the system picks. Nothing here depends on timing: the
 * workers and the sink wait on promises the test controls.
 */

async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The sum of 1..n without the multiples of `badEvery` (the generated text's bad records). */
function expectedSum(n: number, badEvery: number): number {
  const all = (n * (n + 1)) / 2;
  const k = Math.floor(n / badEvery);
  return all - (badEvery * k * (k + 1)) / 2;
}

describe('examples/realistic-pipeline.ts', () => {
  it('[ML-09] sums the good records of 1,000 lines, skipping the 10 bad ones without failing', async () => {
    const bad: string[] = [];
    const report = await sumRecords(generatedText(1_000, 100), { onBadRecord: (line) => bad.push(line) });
    expect(report).toMatchObject({ sum: expectedSum(1_000, 100), records: 990, bad: 10, linesRead: 1_000 });
    expect(bad).toHaveLength(10);
    expect(bad[0]).toBe('oops-100');
  });

  it('[ML-09] backpressure reaches the reader: while the sink is stuck, lines are read only to fill the stages', async () => {
    const concurrency = 4;
    const batchSize = 50;
    const input = generatedText(5_000, 1_000); // 50 chunks of 100 lines
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let batches = 0;
    const running = sumRecords(input, {
      concurrency,
      batchSize,
      sink: async () => {
        batches++;
        if (batches === 1) await stuck; // the first write hangs until the test lets it go
      },
    });
    await turns(50);
    expect(batches).toBe(1);
    // Held: what the stages may hold (a batch being written, one waiting, one being filled,
    // results waiting and work running), not the 100,000 lines of the input.
    const bound = 3 * batchSize + 2 * concurrency + 1;
    const readWhileStuck = input.chunks();
    // Of 50 chunks: about 1,000 lines for readline's own buffer, then the stream is paused.
    expect(readWhileStuck).toBeLessThan(25);
    release();
    const report = await running;
    expect(report.maxHeld).toBeLessThanOrEqual(bound);
    expect(report).toMatchObject({ sum: expectedSum(5_000, 1_000), records: 4_995, bad: 5 });
    expect(input.chunks()).toBe(50);
  });

  it('[ML-09] stops reading when the pipeline fails, and closes the input', async () => {
    const input = generatedText(100_000);
    await expect(
      sumRecords(input, {
        sink: () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    await turns();
    expect(input.destroyed).toBe(true);
    expect(input.chunks()).toBeLessThan(50); // of 1,000
  });

  it('parseInteger accepts integers only', () => {
    expect(parseInteger(' 42 ')).toBe(42);
    expect(() => parseInteger('4x2')).toThrow('bad record');
    expect(() => parseInteger('')).toThrow('bad record');
  });
});

describe('examples/http-503.ts', () => {
  it('[PP-12] answers 503 at once when the channel is full, instead of holding the request', async () => {
    const capacity = 5;
    const concurrency = 2;
    const started: Job[] = [];
    let releaseWorkers: () => void = () => undefined;
    const workersMayFinish = new Promise<void>((resolve) => (releaseWorkers = resolve));
    const service = createJobServer({
      capacity,
      concurrency,
      work: async (job) => {
        started.push(job);
        await workersMayFinish; // the workers are stuck until the test lets them go
      },
    });
    try {
      const port = await service.listen(0);
      const post = (i: number) =>
        fetch(`http://127.0.0.1:${port}/jobs`, { method: 'POST', body: `job ${i}` }).then(async (res) => ({
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: await res.text(),
        }));
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i)));
      const accepted = responses.filter((r) => r.status === 202);
      const rejected = responses.filter((r) => r.status === 503);
      // Two jobs went to the workers, five wait in the channel; the other 43 were told no at once.
      expect(accepted).toHaveLength(concurrency + capacity);
      expect(rejected).toHaveLength(50 - concurrency - capacity);
      expect(rejected.every((r) => r.retryAfter === '1')).toBe(true);
      expect(started).toHaveLength(concurrency);
      expect(service.jobs.size).toBe(capacity);

      releaseWorkers();
      while (service.stats.snapshot().completed < concurrency + capacity) await turns(1);
      expect(service.stats.snapshot()).toMatchObject({ completed: 7, failed: 0, inFlight: 0, queued: 0 });
      const ids = started.map((job) => job.id).sort((a, b) => a - b);
      expect(new Set(ids).size).toBe(7);
      // With room again, the next request is accepted.
      expect((await post(50)).status).toBe(202);
    } finally {
      await service.close();
    }
  });
});

/**
 * The examples that are programs rather than modules run as they would from a shell (`node
 * --import tsx`), with sizes made small through their environment variables. Their output is
 * checked for what does not depend on the machine's speed.
 */
function runExample(path: string, env: Record<string, string>): Promise<string> {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path],
      { cwd: repo, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) =>
        err === null ? resolve(stdout) : reject(new Error(`${path}: ${err.message}\n${stderr}`)),
    );
  });
}

/** The numbers of a summary row, after its label. */
function row(output: string, label: string): string[] {
  const line = output.split('\n').find((l) => l.trimStart().startsWith(label));
  if (line === undefined) throw new Error(`no row '${label}' in:\n${output}`);
  return line
    .slice(line.indexOf(label) + label.length)
    .trim()
    .split(/\s+/);
}

describe('examples that are programs, run small', () => {
  it(
    'examples/demo.ts: the pausable source drops nothing and stays within the buffer; the push source counts every drop',
    { timeout: 120_000 },
    async () => {
      const out = await runExample('examples/demo.ts', { DEMO_EVENTS: '600', DEMO_BUFFER: '100' });
      // time, CPU, done, dropped, peak queue, heap growth
      const pulled = row(out, 'fromPull → boundedBuffer(block) → mergeWorkers');
      expect(pulled.slice(2, 4)).toEqual(['600', '0']);
      expect(Number(pulled[4])).toBeLessThanOrEqual(100);
      const merged = row(out, 'generator → mergeMap');
      expect(merged.slice(2, 5)).toEqual(['600', '0', '584']); // everything but the 16 running was queued
      const pushed = row(out, 'push → boundedBuffer(drop-oldest) → mergeWorkers');
      expect(Number(pushed[2]) + Number(pushed[3])).toBe(600);
      expect(out).toContain('done + dropped = 600');
    },
  );

  it(
    'examples/measure-mergemap.ts: both pipelines deliver every value, in child processes',
    { timeout: 120_000 },
    async () => {
      const out = await runExample('examples/measure-mergemap.ts', { MEASURE_SIZES: '2000', MEASURE_RUNS: '1' });
      expect(out).toContain('median of 1 runs');
      // A Markdown table, as the README quotes it: | pipeline | values | CPU time | wall time | live heap |
      for (const label of ['`range` → `mergeMap(work, 4)`', '`fromPull` → `mergeWorkers(work, { concurrency: 4 })`']) {
        const line = out.split('\n').find((l) => l.startsWith(`| ${label} |`));
        expect(line, `a row for ${label}`).toBeDefined();
        const [values, cpu, wall, heap] = line!
          .split('|')
          .slice(2, 6)
          .map((cell) => Number(cell.trim().replace(/,/g, '').split(' ')[0]));
        expect(values).toBe(2000);
        for (const n of [cpu, wall, heap]) expect(Number.isFinite(n)).toBe(true);
      }
    },
  );

  it(
    'examples/worker-threads/main.ts: 12 jobs on 2 threads, then take(3) aborts the jobs still running',
    { timeout: 120_000 },
    async () => {
      const out = await runExample('examples/worker-threads/main.ts', { WORKER_THREADS: '2', WORKER_CHUNK: '20000' });
      expect(out).toContain('2 worker threads, mergeWorkers concurrency 2');
      // The primes below 240,000.
      expect(out).toContain('21221 primes;');
      expect(out).toMatch(/got jobs \d+, \d+, \d+ in \d+ ms; \d+ thread\(s\) terminated/);
      expect(out).not.toMatch(/aborted \((?!CancelledError, reason 'unsubscribed')/);
    },
  );
});
