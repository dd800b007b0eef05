import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { NEVER, Observable, Subject, lastValueFrom, of, throwError } from 'rxjs';
import {
  OverflowError,
  bufferMonitor,
  fromPull,
  mergeWorkers,
  toReadableStream,
  writeToStream,
  type Cancellation,
} from '../index.js';
import { demandSource } from '../lib/core/producer.js';
import { countingIterable } from './helpers.js';

/** Lets every queued promise reaction run (a macrotask comes after all microtasks). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A demand-aware source that records each request and the cancellation it was given. */
function recordingSource(): {
  source: Observable<number>;
  cancellations: (Cancellation | undefined)[];
  emitted: () => number;
} {
  const cancellations: (Cancellation | undefined)[] = [];
  let emitted = 0;
  const source = demandSource<number>('recording', (sink) => ({
    pump() {
      while (sink.demand > 0 && !sink.closed) sink.next(emitted++);
    },
    teardown: (c) => cancellations.push(c),
  }));
  return { source, cancellations, emitted: () => emitted };
}

/** A WritableStream whose sink waits for the test to release each write. */
function gatedWritable<T>(highWaterMark: number): {
  stream: WritableStream<T>;
  written: T[];
  releaseOne: () => void;
  fail: (err: unknown) => void;
  closed: () => boolean;
  aborted: () => unknown;
} {
  const written: T[] = [];
  const gates: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let closed = false;
  let abortReason: unknown;
  const stream = new WritableStream<T>(
    {
      write(chunk) {
        return new Promise<void>((resolve, reject) => {
          gates.push({
            resolve: () => {
              written.push(chunk);
              resolve();
            },
            reject,
          });
        });
      },
      close() {
        closed = true;
      },
      abort(reason) {
        abortReason = reason;
      },
    },
    new CountQueuingStrategy({ highWaterMark }),
  );
  return {
    stream,
    written,
    releaseOne: () => gates.shift()?.resolve(),
    fail: (err) => gates.shift()?.reject(err),
    closed: () => closed,
    aborted: () => abortReason,
  };
}

describe('toReadableStream', () => {
  it('is typed and validates its arguments', () => {
    expectTypeOf(toReadableStream(of(1))).toEqualTypeOf<ReadableStream<number>>();
    expect(() => toReadableStream({} as never)).toThrow("toReadableStream: 'source' must be an Observable");
    expect(() => toReadableStream(of(1), { highWaterMark: -1 })).toThrow(RangeError);
    expect(() => toReadableStream(of(1), { hwm: 1 } as never)).toThrow(/unknown option 'hwm'/);
  });

  it('pulls a fromPull generator no more than highWaterMark values ahead of the reader', async () => {
    for (const highWaterMark of [0, 1, 4]) {
      const counted = countingIterable();
      const reader = toReadableStream(fromPull(counted.iterable), { highWaterMark }).getReader();
      await flush();
      expect(counted.pulled()).toBe(highWaterMark); // filling the stream's queue, before any read
      for (let read = 1; read <= 20; read++) {
        const { value } = await reader.read();
        expect(value).toBe(read - 1);
        await flush();
        expect(counted.pulled()).toBeLessThanOrEqual(read + highWaterMark);
      }
      await reader.cancel();
      expect(counted.returned()).toBe(true);
    }
  });

  it('property: whatever the highWaterMark and the pace of reads, pulled <= read + highWaterMark, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(5),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 15 }),
        async (highWaterMark, pauses) => {
          const counted = countingIterable();
          const reader = toReadableStream(fromPull(counted.iterable), { highWaterMark }).getReader();
          let read = 0;
          for (const pause of pauses) {
            for (let i = 0; i < pause; i++) await flush(); // the reader is busy; the stream may fill
            expect(counted.pulled()).toBeLessThanOrEqual(read + highWaterMark);
            const { value } = await reader.read();
            expect(value).toBe(read++);
          }
          await reader.cancel();
          expect(counted.returned()).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reads everything, then closes; an error errors the stream after the values before it', async () => {
    const values: number[] = [];
    for await (const v of toReadableStream(fromPull([1, 2, 3])) as unknown as AsyncIterable<number>) values.push(v);
    expect(values).toEqual([1, 2, 3]);

    const failing = new Observable<number>((s) => {
      s.next(1);
      s.error(new Error('boom'));
    });
    const reader = toReadableStream(failing).getReader();
    expect(await reader.read()).toEqual({ value: 1, done: false });
    await expect(reader.read()).rejects.toThrow('boom');
  });

  it('cancel(reason) unsubscribes, passing the reason upstream as the cancellation cause', async () => {
    const recorded = recordingSource();
    const stream = toReadableStream(recorded.source, { highWaterMark: 2 });
    await flush();
    expect(recorded.emitted()).toBe(2);
    const reason = new Error('user left');
    await stream.cancel(reason);
    expect(recorded.cancellations).toEqual([{ reason: 'unsubscribed', cause: reason }]);
    await flush();
    expect(recorded.emitted()).toBe(2);
  });

  it("cancel() reaches the workers: every running work's signal aborts", async () => {
    const signals: AbortSignal[] = [];
    const stream = toReadableStream(
      fromPull(countingIterable().iterable).pipe(
        mergeWorkers(
          (_v: number, { signal }) => {
            signals.push(signal);
            return NEVER;
          },
          { concurrency: 3 },
        ),
      ),
    );
    await flush();
    expect(signals).toHaveLength(3);
    await stream.cancel('done');
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ name: 'CancelledError', reason: 'unsubscribed' });
  });

  it('absorbs a push source in a bounded queue (error policy by default), counting in its monitor', async () => {
    const events = new Subject<number>();
    const monitor = bufferMonitor();
    const reader = toReadableStream(events, { capacity: 3, monitor }).getReader();
    const first = reader.read();
    await flush();
    for (let i = 0; i < 5; i++) events.next(i); // one to the pending read, three queued, one too many
    expect(await first).toEqual({ value: 0, done: false });
    const rest: unknown[] = [];
    const error = await (async () => {
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) return undefined;
          rest.push(r.value);
        }
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(OverflowError);
    expect(rest).toEqual([1, 2, 3]);
    expect(events.observed).toBe(false);
    expect(monitor.snapshot()).toMatchObject({ received: 5, emitted: 4, discarded: 1, depth: 0 });
  });

  it('a source that fails while subscribing errors the stream', async () => {
    const reader = toReadableStream(throwError(() => new Error('no'))).getReader();
    await expect(reader.read()).rejects.toThrow('no');
  });
});

describe('writeToStream', () => {
  it('is typed and validates its arguments', () => {
    const { stream } = gatedWritable<number>(1);
    expectTypeOf(of(1).pipe(writeToStream(stream))).toEqualTypeOf<Observable<never>>();
    expect(() => writeToStream({} as never)).toThrow("writeToStream: 'stream' must be a WritableStream");
    expect(() => writeToStream(stream, { close: 'yes' } as never)).toThrow(/'close'/);
    expect(() => writeToStream(stream, { end: true } as never)).toThrow(/unknown option 'end'/);
  });

  it('requests the next value only when the writer is ready: the producer stays within highWaterMark', async () => {
    for (const highWaterMark of [1, 3]) {
      const counted = countingIterable(30);
      const sink = gatedWritable<number>(highWaterMark);
      let completed = false;
      fromPull(counted.iterable)
        .pipe(writeToStream(sink.stream))
        .subscribe({ complete: () => (completed = true) });
      for (let i = 0; i < 30; i++) {
        await flush();
        // In the stream's queue (the write in progress included): at most highWaterMark.
        expect(counted.pulled() - sink.written.length).toBeLessThanOrEqual(highWaterMark);
        sink.releaseOne();
      }
      await flush();
      expect(sink.written).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(completed).toBe(true);
      expect(sink.closed()).toBe(true);
    }
  });

  it("fails the pipeline with the stream's error, and unsubscribes the source", async () => {
    const counted = countingIterable();
    const sink = gatedWritable<number>(2);
    const errors: unknown[] = [];
    fromPull(counted.iterable)
      .pipe(writeToStream(sink.stream))
      .subscribe({ error: (e: unknown) => errors.push(e) });
    await flush();
    const diskFull = new Error('disk full');
    sink.fail(diskFull);
    await flush();
    expect(errors).toEqual([diskFull]);
    expect(counted.returned()).toBe(true);
  });

  it('aborts the stream with a source error (close: true), leaves it open with close: false', async () => {
    const boom = new Error('boom');
    const a = gatedWritable<number>(1);
    await expect(lastValueFrom(throwError(() => boom).pipe(writeToStream(a.stream)))).rejects.toBe(boom);
    await flush();
    expect(a.aborted()).toBe(boom);

    const b = gatedWritable<number>(1);
    const done = lastValueFrom(of(1).pipe(writeToStream(b.stream, { close: false })), { defaultValue: 'done' });
    await flush();
    b.releaseOne();
    expect(await done).toBe('done');
    expect(b.closed()).toBe(false);
    expect(b.stream.locked).toBe(false); // the lock is released: the caller can write more
  });

  it('unsubscribing stops the writes and releases the lock', async () => {
    const counted = countingIterable();
    const sink = gatedWritable<number>(1);
    const sub = fromPull(counted.iterable).pipe(writeToStream(sink.stream)).subscribe();
    await flush();
    sub.unsubscribe();
    expect(counted.returned()).toBe(true);
    expect(sink.stream.locked).toBe(false);
  });

  it('a locked stream fails the subscription', async () => {
    const sink = gatedWritable<number>(1);
    sink.stream.getWriter();
    await expect(lastValueFrom(of(1).pipe(writeToStream(sink.stream)))).rejects.toThrow(TypeError);
  });
});
