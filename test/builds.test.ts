/**
 * Across builds and copies: the ESM build (dist/index.js, imported), the CommonJS build
 * (dist/index.cjs, required) and a second installed copy (the ESM build copied to another
 * directory, so a separate module instance), loaded in one process and mixed. Errors raised by
 * one are `instanceof` the classes of the others; the demand handshake works between them.
 *
 * Uses dist/ as `npm test` leaves it (it builds before the unit tests); builds it when missing.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEVER, Observable, firstValueFrom, lastValueFrom, of, toArray } from 'rxjs';
import type * as Library from '../index.js';

type Build = typeof Library;

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = `${root}dist/`;
// Under the project's node_modules, so that the copy resolves the same rxjs as an installed one would.
const copyDir = `${root}node_modules/.cache/builds-test-${process.pid}/`;

const builds: Record<'esm' | 'cjs' | 'copy', Build> = {} as never;

beforeAll(async () => {
  if (!existsSync(`${dist}index.js`) || !existsSync(`${dist}index.cjs`)) {
    execFileSync(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`], { cwd: root, stdio: 'ignore' });
  }
  mkdirSync(copyDir, { recursive: true });
  writeFileSync(`${copyDir}package.json`, '{ "type": "module" }\n');
  // The ESM build and the chunks it shares with the other entries: a second installed copy.
  for (const file of readdirSync(dist)) if (file.endsWith('.js')) copyFileSync(`${dist}${file}`, `${copyDir}${file}`);
  builds.esm = (await import(pathToFileURL(`${dist}index.js`).href)) as Build;
  builds.cjs = createRequire(import.meta.url)(`${dist}index.cjs`) as Build;
  builds.copy = (await import(pathToFileURL(`${copyDir}index.js`).href)) as Build;
}, 60_000);

afterAll(() => rmSync(copyDir, { recursive: true, force: true }));

const ERROR_CLASSES = [
  'OverflowError',
  'ClosedError',
  'ProtocolError',
  'CancelledError',
  'DrainDeadlineError',
] as const;
type ErrorName = (typeof ERROR_CLASSES)[number];

/** Lets promise chains and zero-delay timers run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** Makes each library error for real, through the public operators of `lib`. */
async function raise(lib: Build, name: ErrorName): Promise<unknown> {
  switch (name) {
    case 'OverflowError': {
      const source = new Observable<number>((s) => {
        for (let i = 0; i < 5; i++) s.next(i);
      });
      const handle = (
        lib.boundedBuffer<number>({ capacity: 1, overflow: 'error' })(source) as Library.DemandObservable<number>
      )[lib.DEMAND];
      return new Promise((resolve) => handle.subscribe({ next() {}, error: resolve, complete() {} }));
    }
    case 'ClosedError': {
      const ch = lib.channel<number>({ capacity: 1 });
      ch.close();
      return ch.send(1).catch((err: unknown) => err);
    }
    case 'ProtocolError': {
      const handle = lib.fromPull([1, 2])[lib.DEMAND];
      return new Promise((resolve) =>
        handle.subscribe({ start: (h) => h.request(0), next() {}, error: resolve, complete() {} }),
      );
    }
    case 'CancelledError': {
      let signal: AbortSignal | undefined;
      const subscription = of(1)
        .pipe(
          lib.mergeWorkers(
            (_v: number, context) => {
              signal = context.signal;
              return NEVER;
            },
            { concurrency: 1 },
          ),
        )
        .subscribe();
      subscription.unsubscribe();
      return (signal as AbortSignal).reason;
    }
    case 'DrainDeadlineError': {
      const stuck = lib.mergeWorkers(() => NEVER, { concurrency: 1 });
      return firstValueFrom(of(1).pipe(lib.drainOnComplete(stuck, { deadline: 1, deadlineError: true }))).catch(
        (err: unknown) => err,
      );
    }
  }
}

const PAIRS = [
  ['esm', 'cjs'],
  ['cjs', 'esm'],
  ['esm', 'copy'],
  ['copy', 'cjs'],
] as const;

describe('errors are recognised across builds and copies', () => {
  for (const name of ERROR_CLASSES) {
    for (const [from, to] of PAIRS) {
      it(`${name} raised by the ${from} build is instanceof the ${to} build's ${name}, and of no other class`, async () => {
        const err = await raise(builds[from], name);
        expect(err).toBeInstanceOf(builds[from][name]); // it really is one, made by the operator
        expect(err instanceof builds[to][name]).toBe(true);
        expect(err instanceof Error).toBe(true);
        for (const other of ERROR_CLASSES.filter((n) => n !== name)) {
          expect(err instanceof builds[to][other], `instanceof ${other}`).toBe(false);
        }
      });
    }
  }

  it('no false positives: unrelated errors, plain objects, look-alikes by name or shape', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'OverflowError', operator: 'boundedBuffer', capacity: 1 });
    const values: unknown[] = [
      new Error('x'),
      new TypeError('x'),
      {},
      { name: 'OverflowError' },
      lookAlike,
      null,
      undefined,
      42,
      'OverflowError',
      () => undefined,
    ];
    for (const build of Object.values(builds)) {
      for (const name of ERROR_CLASSES) {
        for (const value of values) expect(value instanceof build[name]).toBe(false);
      }
    }
  });

  it('subclasses: a subclass instance is recognised by every base; a base instance is not a subclass instance', () => {
    const { esm, cjs } = builds;
    class RateLimitOverflow extends esm.OverflowError {}
    class OtherOverflow extends cjs.OverflowError {}
    const sub = new RateLimitOverflow('api', 10, 'error');
    expect(sub instanceof RateLimitOverflow).toBe(true);
    expect(sub instanceof esm.OverflowError).toBe(true);
    expect(sub instanceof cjs.OverflowError).toBe(true);
    expect(sub instanceof OtherOverflow).toBe(false);
    expect(new esm.OverflowError('x', 1, 'error') instanceof RateLimitOverflow).toBe(false);
    expect(new cjs.OverflowError('x', 1, 'error') instanceof RateLimitOverflow).toBe(false);
    expect(sub.message).toBe("api: queue overflow (capacity 10, overflow policy 'error')");
    // An object made from the prototype is an instance by the ordinary rule, as for any class.
    expect(Object.create(esm.ClosedError.prototype) instanceof esm.ClosedError).toBe(true);
  });

  it('the brand is a registered symbol holding the class name, not enumerable: spreads and JSON do not carry it', () => {
    const err = new builds.cjs.OverflowError('boundedBuffer', 2, 'error');
    const brand = Symbol.for('rxjs-backpressure.error');
    expect(Object.getOwnPropertyDescriptor(err, brand)).toMatchObject({ value: 'OverflowError', enumerable: false });
    expect(Object.getOwnPropertySymbols({ ...err })).toEqual([]);
    expect(JSON.stringify(err)).not.toMatch(/rxjs-backpressure/);
  });
});

describe('the handshake works across builds', () => {
  for (const [from, to] of PAIRS) {
    it(`a fromPull of the ${from} build feeding a mergeWorkers of the ${to} build is pulled only for free slots`, async () => {
      let pulled = 0;
      function* numbers() {
        for (;;) yield pulled++;
      }
      const running: number[] = [];
      const subscription = builds[from]
        .fromPull(numbers())
        .pipe(
          builds[to].mergeWorkers(
            (v: number) => {
              running.push(v);
              return NEVER;
            },
            { concurrency: 2 },
          ),
        )
        .subscribe();
      await settle();
      // A push source would have been drained into the pool's queue (up to 1024 values).
      expect(running).toEqual([0, 1]);
      expect(pulled).toBe(2);
      subscription.unsubscribe();
    });
  }

  it('values flow through stages of three copies in one pipe', async () => {
    const { esm, cjs, copy } = builds;
    const out = await firstValueFrom(
      esm
        .fromPull(() => [1, 2, 3, 4, 5])
        .pipe(
          cjs.boundedBuffer<number>({ capacity: 2, overflow: 'block' }),
          copy.orderedMerge((v: number) => Promise.resolve(v * 10), { concurrency: 2 }),
          toArray(),
        ),
    );
    expect(out).toEqual([10, 20, 30, 40, 50]);
  });
});

describe('monitors across builds', () => {
  it('a workerMonitor from the CJS build is accepted by the ESM build, and counts', async () => {
    const monitor = builds.cjs.workerMonitor();
    await lastValueFrom(of(1, 2, 3).pipe(builds.esm.mergeWorkers((v: number) => of(v), { concurrency: 2, monitor })));
    expect(monitor.snapshot()).toMatchObject({ received: 3, completed: 3 });
  });

  it('every monitor kind crosses builds both ways, and a monitor of the wrong kind is still refused', async () => {
    const buffer = builds.esm.bufferMonitor();
    const batches = builds.cjs.batchMonitor();
    const out = await firstValueFrom(
      of(1, 2, 3).pipe(
        builds.cjs.boundedBuffer<number>({ capacity: 4, overflow: 'error', monitor: buffer }),
        builds.esm.batchFresh<number>({ size: 2, monitor: batches }),
        toArray(),
      ),
    );
    expect(out).toEqual([[1, 2], [3]]);
    expect(buffer.snapshot()).toMatchObject({ received: 3, emitted: 3 });
    expect(batches.snapshot()).toMatchObject({ received: 3, valuesEmitted: 3 });
    expect(() =>
      builds.esm.boundedBuffer({ capacity: 1, overflow: 'error', monitor: builds.cjs.workerMonitor() as never }),
    ).toThrow("boundedBuffer: 'monitor' must be a monitor from bufferMonitor()");
  });
});
