import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { NEVER, Observable, Subject, lastValueFrom, of, throwError } from 'rxjs';
import { fromPull, mergeWorkers, OverflowError, type Cancellation } from '../index.js';
import { toNodeReadable, writeTo } from '../node.js';
import { demandSource } from '../lib/core/producer.js';
import { countingIterable } from './helpers.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An object-mode Writable whose writes wait for the test to release them. */
function gatedWritable(highWaterMark: number): {
  writable: Writable;
  written: unknown[];
  releaseOne: () => void;
  failNext: (err: Error) => void;
} {
  const written: unknown[] = [];
  const pending: ((err?: Error) => void)[] = [];
  const writable = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk, _encoding, callback) {
      pending.push((err) => {
        if (err === undefined) written.push(chunk);
        callback(err);
      });
    },
  });
  return {
    writable,
    written,
    releaseOne: () => pending.shift()?.(),
    failNext: (err) => pending.shift()?.(err),
  };
}

describe('toNodeReadable', () => {
  it('is typed and validates its arguments', () => {
    expectTypeOf(toNodeReadable(of(1))).toEqualTypeOf<Readable>();
    expect(() => toNodeReadable(42 as never)).toThrow("toNodeReadable: 'source' must be an Observable");
    expect(() => toNodeReadable(of(1), { highWaterMark: 0 })).toThrow(RangeError);
    expect(() => toNodeReadable(of(1), { objectMode: false } as never)).toThrow(/unknown option 'objectMode'/);
  });

  it('respects highWaterMark: a paused reader stops the generator', async () => {
    for (const highWaterMark of [1, 4, 16]) {
      const counted = countingIterable();
      const readable = toNodeReadable(fromPull(counted.iterable), { highWaterMark });
      expect(counted.pulled()).toBe(0); // nothing before the first read
      readable.read(0); // starts the flow of _read calls, takes nothing
      await flush();
      const ahead = counted.pulled();
      expect(ahead).toBeGreaterThan(0);
      expect(ahead).toBeLessThanOrEqual(highWaterMark + 1);
      for (let i = 0; i < 10; i++) {
        expect(readable.read()).toBe(i);
        await flush();
        expect(counted.pulled() - (i + 1)).toBeLessThanOrEqual(highWaterMark + 1);
      }
      readable.destroy();
      expect(counted.returned()).toBe(true);
    }
  });

  it('pipes everything into a Writable through stream.pipeline, then ends', async () => {
    const sink = gatedWritable(2);
    const counted = countingIterable(200);
    const done = pipeline(toNodeReadable(fromPull(counted.iterable), { highWaterMark: 2 }), sink.writable);
    let maxAhead = 0;
    while (sink.written.length < 200) {
      await flush();
      maxAhead = Math.max(maxAhead, counted.pulled() - sink.written.length);
      sink.releaseOne();
    }
    await done;
    // The Readable's buffer (2), the Writable's (2), and one value being requested.
    expect(maxAhead).toBeLessThanOrEqual(5);
    expect(sink.written).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('destroy(err) unsubscribes with err as the cancellation cause, and aborts running work', async () => {
    const cancellations: (Cancellation | undefined)[] = [];
    const source = demandSource<number>('recording', (sink) => ({
      pump() {
        while (sink.demand > 0) sink.next(1);
      },
      teardown: (c) => cancellations.push(c),
    }));
    const readable = toNodeReadable(source);
    readable.on('error', () => undefined);
    readable.read(0);
    await flush();
    const err = new Error('client went away');
    readable.destroy(err);
    expect(cancellations).toEqual([{ reason: 'unsubscribed', cause: err }]);

    const signals: AbortSignal[] = [];
    const work = toNodeReadable(
      fromPull(countingIterable().iterable).pipe(
        mergeWorkers((_v: number, { signal }) => (signals.push(signal), NEVER), { concurrency: 2 }),
      ),
    );
    work.read(0);
    await flush();
    work.destroy();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
  });

  it('an error of the source destroys the Readable with it, after the values before it', async () => {
    const failing = new Observable<number>((s) => {
      s.next(1);
      s.error(new Error('boom'));
    });
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const v of toNodeReadable(failing)) seen.push(v);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1]);
    await expect(toNodeReadable(throwError(() => 'plain')).toArray()).rejects.toMatchObject({ cause: 'plain' });
  });

  it('a null value destroys the stream with a TypeError (null is the end of a Readable)', async () => {
    await expect(toNodeReadable(of(1, null, 2)).toArray()).rejects.toThrow(/emitted null/);
  });

  it('absorbs a push source in a bounded queue (error policy by default)', async () => {
    const events = new Subject<number>();
    const readable = toNodeReadable(events, { capacity: 2, highWaterMark: 1 });
    readable.read(0);
    for (let i = 0; i < 10; i++) events.next(i);
    // One pushed into the Readable, two queued, the fourth overflowed. The push buffer delivers
    // what it holds before the error (delayError), but 2, still in the Readable's own buffer
    // when the error destroys it, is discarded: Node drops a destroyed stream's buffer, as
    // Readable.from does (documented on toNodeReadable).
    expect(events.observed).toBe(false);
    const seen: unknown[] = [];
    await expect(readable.forEach((v) => void seen.push(v))).rejects.toBeInstanceOf(OverflowError);
    expect(seen).toEqual([0, 1]);
  });
});

describe('writeTo', () => {
  it('is typed and validates its arguments', () => {
    const { writable } = gatedWritable(1);
    expectTypeOf(of(1).pipe(writeTo(writable))).toEqualTypeOf<Observable<never>>();
    expect(() => writeTo({} as never)).toThrow("writeTo: 'writable' must be a Node Writable");
    expect(() => writeTo(writable, { close: true } as never)).toThrow(/unknown option 'close'/);
  });

  it('requests the next value only when write() returned true or after drain', async () => {
    for (const highWaterMark of [1, 4]) {
      const counted = countingIterable(40);
      const sink = gatedWritable(highWaterMark);
      let completed = false;
      fromPull(counted.iterable)
        .pipe(writeTo(sink.writable))
        .subscribe({ complete: () => (completed = true) });
      let maxAhead = 0;
      while (!completed) {
        await flush();
        maxAhead = Math.max(maxAhead, counted.pulled() - sink.written.length);
        sink.releaseOne();
      }
      // write() returns false once highWaterMark values wait (the one being written included).
      expect(maxAhead).toBe(highWaterMark);
      expect(sink.written).toHaveLength(40);
      expect(sink.writable.writableFinished).toBe(true);
    }
  });

  it('property: whatever the highWaterMark and the pace of the sink, never more than highWaterMark unwritten, nothing lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 30 }),
        async (highWaterMark, releases) => {
          const total = 25;
          const counted = countingIterable(total);
          const sink = gatedWritable(highWaterMark);
          let completed = false;
          fromPull(counted.iterable)
            .pipe(writeTo(sink.writable))
            .subscribe({ complete: () => (completed = true) });
          // The sink releases 0..3 writes per turn, then 1 per turn until the end.
          for (const n of [...releases, ...Array<number>(total + 1).fill(1)]) {
            if (completed) break;
            await flush();
            expect(counted.pulled() - sink.written.length).toBeLessThanOrEqual(highWaterMark);
            for (let i = 0; i < n; i++) sink.releaseOne();
          }
          await flush();
          expect(completed).toBe(true);
          expect(sink.written).toEqual(Array.from({ length: total }, (_, i) => i));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("fails the pipeline with the Writable's error and unsubscribes the source", async () => {
    const counted = countingIterable();
    const sink = gatedWritable(2);
    const result = lastValueFrom(fromPull(counted.iterable).pipe(writeTo(sink.writable)));
    await flush();
    const err = new Error('EPIPE');
    sink.failNext(err);
    await expect(result).rejects.toBe(err);
    expect(counted.returned()).toBe(true);
  });

  it('a Writable closed before the end fails the pipeline; an ended one fails at once', async () => {
    const sink = gatedWritable(2);
    const result = lastValueFrom(fromPull(countingIterable().iterable).pipe(writeTo(sink.writable)));
    await flush();
    sink.writable.destroy();
    await expect(result).rejects.toThrow('writeTo: the Writable closed before the source completed');

    const ended = gatedWritable(1);
    ended.writable.end();
    await expect(lastValueFrom(of(1).pipe(writeTo(ended.writable)))).rejects.toThrow('already ended');
  });

  it('destroys the Writable with a source error (end: true); end: false leaves it open', async () => {
    const a = gatedWritable(1);
    const boom = new Error('boom');
    await expect(lastValueFrom(throwError(() => boom).pipe(writeTo(a.writable)))).rejects.toBe(boom);
    await flush();
    expect(a.writable.destroyed).toBe(true);

    const b = gatedWritable(4);
    const done = lastValueFrom(of(1, 2).pipe(writeTo(b.writable, { end: false })), { defaultValue: 'done' });
    await flush();
    b.releaseOne();
    b.releaseOne();
    expect(await done).toBe('done');
    expect(b.writable.writableEnded).toBe(false);
    expect(b.writable.listenerCount('error')).toBe(0);
  });

  it('unsubscribing stops the writes and removes every listener', async () => {
    const counted = countingIterable();
    const sink = gatedWritable(1);
    const sub = fromPull(counted.iterable).pipe(writeTo(sink.writable)).subscribe();
    await flush();
    sub.unsubscribe();
    expect(counted.returned()).toBe(true);
    for (const event of ['error', 'close', 'drain', 'finish']) expect(sink.writable.listenerCount(event)).toBe(0);
  });
});
