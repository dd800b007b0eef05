/**
 * Error messages that must read right and name what to change: the OverflowError of a queue the
 * user did not ask for (the pool's, in front of a source that cannot be paused), batchFresh's
 * `maxPending`, and a callback that returned the wrong thing.
 */
import { describe, expect, it } from 'vitest';
import { NEVER, Subject, of } from 'rxjs';
import { OverflowError, batchFresh, drainOnComplete, mergeWorkers } from '../index.js';
import { returnTypeError } from '../lib/core/errors.js';
import { IMPLICIT_QUEUE_ADVICE, boundedQueue } from '../lib/queue/bounded-queue.js';
import { probe } from './helpers.js';

describe('OverflowError messages', () => {
  it('without detail, the message is as before', () => {
    const err = new OverflowError('boundedBuffer', 2, 'error');
    expect(err.message).toBe("boundedBuffer: queue overflow (capacity 2, overflow policy 'error')");
    expect(err.option).toBeUndefined();
    expect(err.advice).toBeUndefined();
  });

  it('names the option that set the capacity, and appends the advice', () => {
    const err = new OverflowError('batchFresh', 1, 'error', 'batches', { option: 'maxPending', advice: 'Raise it.' });
    expect(err.message).toBe(
      "batchFresh: queue overflow (capacity 1 batches, set by the 'maxPending' option, overflow policy 'error'). Raise it.",
    );
    expect(err.option).toBe('maxPending');
    expect(err.advice).toBe('Raise it.');
  });

  it("batchFresh's 'capacity 1 batches' overflow names maxPending (the default of 1)", () => {
    const p = probe(of(1, 2, 3, 4).pipe(batchFresh({ size: 1 })) as never);
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]).toBeInstanceOf(OverflowError);
    expect((p.errors[0] as OverflowError).message).toBe(
      "batchFresh: queue overflow (capacity 1 batches, set by the 'maxPending' option, overflow policy 'error')",
    );
  });

  it("a queue's overflowAdvice is appended to its OverflowError", () => {
    const source = new Subject<number>();
    const advice = IMPLICIT_QUEUE_ADVICE('mergeWorkers', 2);
    const queue = boundedQueue(source, {
      name: 'mergeWorkers',
      capacity: 2,
      overflow: 'error',
      onDrop: undefined,
      monitor: undefined,
      delayError: false,
      overflowAdvice: advice,
    });
    const p = probe(queue);
    for (let i = 0; i < 3; i++) source.next(i);
    expect(p.errors).toHaveLength(1);
    const err = p.errors[0] as OverflowError;
    expect(err.message).toBe(`mergeWorkers: queue overflow (capacity 2, overflow policy 'error'). ${advice}`);
    expect(err.advice).toBe(advice);
  });

  it('IMPLICIT_QUEUE_ADVICE: the source cannot be paused, the capacity came from the default capacity option, both fixes', () => {
    const advice = IMPLICIT_QUEUE_ADVICE('mergeWorkers', 1024);
    expect(advice).toMatch(/^The source cannot be paused /);
    expect(advice).toContain("up to the default 'capacity' option (1024)");
    expect(advice).toContain('read the source with fromPull()');
    expect(advice).toContain("an explicit boundedBuffer({ capacity, overflow: 'drop-oldest' })");
    expect(IMPLICIT_QUEUE_ADVICE('orderedMerge', 10, false)).toContain("up to its 'capacity' option (10)");
  });

  it('the pool over a push source that fills its implicit queue says so, and names both fixes', () => {
    const source = new Subject<number>();
    const errors: unknown[] = [];
    source.pipe(mergeWorkers(() => NEVER, { concurrency: 1, capacity: 3 })).subscribe({ error: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) source.next(i);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe(
      `mergeWorkers: queue overflow (capacity 3, overflow policy 'error'). ${IMPLICIT_QUEUE_ADVICE('mergeWorkers', 3, false)}`,
    );
  });
});

describe('returnTypeError', () => {
  it('reads "must return ..., but it returned ..."', () => {
    const err = returnTypeError('mergeWorkers', 'work', 'an ObservableInput (Observable, Promise) for value #3', 42);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe(
      "mergeWorkers: 'work' must return an ObservableInput (Observable, Promise) for value #3, but it returned 42",
    );
  });

  it("drainOnComplete's segment that returns 42", () => {
    const errors: unknown[] = [];
    of(1)
      .pipe(drainOnComplete((() => 42) as never, { deadline: 1 }))
      .subscribe({ error: (e) => errors.push(e) });
    expect((errors[0] as Error).message).toBe(
      "drainOnComplete: 'segment' must return an Observable, but it returned 42",
    );
  });
});
