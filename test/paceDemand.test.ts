import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EMPTY,
  NEVER,
  Observable,
  Subject,
  VirtualTimeScheduler,
  finalize,
  map,
  of,
  take,
  type SchedulerLike,
} from 'rxjs';
import { boundedBuffer, bufferMonitor, fromPull, isDemandAware, OverflowError, paceDemand } from '../index.js';
import { countingIterable, probe } from './helpers.js';

/** A VirtualTimeScheduler that counts the ticks scheduled on it. */
function countingScheduler(): { scheduler: VirtualTimeScheduler; scheduled: () => number } {
  const scheduler = new VirtualTimeScheduler();
  let scheduled = 0;
  const schedule = scheduler.schedule.bind(scheduler);
  scheduler.schedule = ((...args: Parameters<SchedulerLike['schedule']>) => {
    scheduled++;
    return schedule(...args);
  }) as SchedulerLike['schedule'];
  return { scheduler, scheduled: () => scheduled };
}

/**
 * Runs virtual time up to `frame` (inclusive) and leaves the clock there: a VirtualTimeScheduler
 * only moves its clock to actions it runs, so a marker action is placed at `frame` (scheduled
 * with the prototype's method, so a counting scheduler does not count it).
 */
function advanceTo(scheduler: VirtualTimeScheduler, frame: number): void {
  VirtualTimeScheduler.prototype.schedule.call(scheduler, () => undefined, frame - scheduler.frame);
  scheduler.maxFrames = frame;
  scheduler.flush();
}

describe('paceDemand: options', () => {
  it('fails fast on bad options, naming the operator and the parameter', () => {
    expect(() => paceDemand({ count: 0 })).toThrow("paceDemand: 'count' must be a positive integer, got 0");
    expect(() => paceDemand({ period: -1 })).toThrow("paceDemand: 'period' must be a number of ms >= 0, got -1");
    expect(() => paceDemand({ period: Infinity })).toThrow(RangeError);
    expect(() => paceDemand({ scheduler: {} as SchedulerLike })).toThrow(
      "paceDemand: 'scheduler' must be a SchedulerLike",
    );
    expect(() => paceDemand({ overflow: 'block' as 'error' })).toThrow("paceDemand: 'overflow' must be");
    expect(() => paceDemand({ perFrame: 2 } as never)).toThrow(/unknown option 'perFrame'/);
    expect(() => paceDemand(null as never)).toThrow("paceDemand: 'options' must be an options object, got null");
  });

  it('returns a demand-aware Observable', () => {
    expect(isDemandAware(of(1).pipe(paceDemand()))).toBe(true);
  });
});

describe('paceDemand: pacing', () => {
  it('lets at most count values through between two ticks, and the buffer upstream drops the rest', () => {
    const { scheduler } = countingScheduler();
    const events = new Subject<number>();
    const monitor = bufferMonitor();
    const seen: number[] = [];
    events
      .pipe(
        boundedBuffer({ capacity: 10, overflow: 'drop-oldest', monitor }),
        paceDemand({ count: 3, scheduler, period: 16 }),
      )
      .subscribe((v) => seen.push(v));
    for (let i = 0; i < 100; i++) events.next(i); // a burst between two frames
    expect(seen).toEqual([0, 1, 2]);
    advanceTo(scheduler, 16);
    // The newest ten were kept; the frame shows the oldest three of them.
    expect(seen).toEqual([0, 1, 2, 90, 91, 92]);
    advanceTo(scheduler, 48);
    expect(seen).toEqual([0, 1, 2, 90, 91, 92, 93, 94, 95, 96, 97, 98]);
    const stats = monitor.snapshot();
    expect(stats).toMatchObject({ received: 100, emitted: 12, dropped: 87, depth: 1, highWater: 10 });
    expect(stats.received).toBe(stats.emitted + stats.dropped + stats.discarded + stats.depth);
  });

  it('schedules no tick while the source is idle, however long', () => {
    const { scheduler, scheduled } = countingScheduler();
    const events = new Subject<number>();
    const seen: number[] = [];
    events
      .pipe(boundedBuffer({ capacity: 4, overflow: 'drop-oldest' }), paceDemand({ scheduler, period: 16 }))
      .subscribe((v) => seen.push(v));
    advanceTo(scheduler, 10_000);
    expect(scheduled()).toBe(0);
    events.next(1);
    events.next(2);
    advanceTo(scheduler, 20_000);
    expect(seen).toEqual([1, 2]);
    // One tick after 1 (gave credit for 2), one after 2; none while idle again.
    expect(scheduled()).toBe(2);
  });

  it('never asks a demand-aware consumer downstream for more than it asked for', () => {
    const { scheduler } = countingScheduler();
    const counted = countingIterable();
    const p = probe(fromPull(counted.iterable).pipe(paceDemand({ count: 5, scheduler, period: 1 })));
    advanceTo(scheduler, 10);
    expect(counted.pulled()).toBe(0);
    p.request(2);
    advanceTo(scheduler, 20);
    expect(p.values).toEqual([0, 1]);
    expect(counted.pulled()).toBe(2);
    p.cancel();
    expect(counted.returned()).toBe(true);
  });

  it('pulls a fromPull generator one frame at a time: no more than count ahead of the screen', () => {
    const { scheduler } = countingScheduler();
    const counted = countingIterable();
    const seen: number[] = [];
    const sub = fromPull(counted.iterable)
      .pipe(paceDemand({ count: 2, scheduler, period: 16 }))
      .subscribe((v) => seen.push(v));
    for (let frame = 1; frame <= 10; frame++) {
      advanceTo(scheduler, frame * 16);
      expect(counted.pulled()).toBe(seen.length);
      expect(seen).toHaveLength(2 * (frame + 1));
    }
    sub.unsubscribe();
    expect(counted.returned()).toBe(true);
  });

  it('property: whatever the bursts, at most count values per tick and every value is accounted for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(40), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 16 }),
        (bursts, count, capacity) => {
          const scheduler = new VirtualTimeScheduler();
          const events = new Subject<number>();
          const monitor = bufferMonitor();
          const perFrame: number[] = [];
          let current = 0;
          events
            .pipe(
              boundedBuffer({ capacity, overflow: 'drop-oldest', monitor }),
              paceDemand({ count, scheduler, period: 1 }),
            )
            .subscribe(() => current++);
          let sent = 0;
          bursts.forEach((n, i) => {
            for (let k = 0; k < n; k++) events.next(sent++);
            perFrame.push(current);
            current = 0;
            advanceTo(scheduler, i + 1);
          });
          perFrame.push(current);
          expect(Math.max(...perFrame)).toBeLessThanOrEqual(count);
          const s = monitor.snapshot();
          expect(s.received).toBe(sent);
          expect(s.received).toBe(s.emitted + s.dropped + s.discarded + s.depth);
          expect(s.depth).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });
});

describe('paceDemand: the canonical cases', () => {
  it('never, empty, values, error', () => {
    const scheduler = new VirtualTimeScheduler();
    const log: string[] = [];
    const observer = (name: string) => ({
      next: (v: unknown) => log.push(`${name} ${String(v)}`),
      error: (e: unknown) => log.push(`${name} error ${String(e)}`),
      complete: () => log.push(`${name} complete`),
    });
    const sub = NEVER.pipe(paceDemand({ scheduler, period: 1 })).subscribe(observer('never'));
    EMPTY.pipe(paceDemand({ scheduler, period: 1 })).subscribe(observer('empty'));
    fromPull([1, 2])
      .pipe(paceDemand({ scheduler, period: 1 }))
      .subscribe(observer('values'));
    new Observable<number>((s) => s.error('boom'))
      .pipe(paceDemand({ scheduler, period: 1 }))
      .subscribe(observer('error'));
    scheduler.flush();
    sub.unsubscribe();
    expect(log).toEqual(['empty complete', 'values 1', 'error error boom', 'values 2', 'values complete']);
  });

  it('a synchronous endless source stopped by take(3) downstream', () => {
    const counted = countingIterable();
    const scheduler = new VirtualTimeScheduler();
    const seen: number[] = [];
    let completed = false;
    fromPull(counted.iterable)
      .pipe(paceDemand({ count: 1, scheduler, period: 1 }), take(3))
      .subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
    scheduler.flush();
    expect(seen).toEqual([0, 1, 2]);
    expect(completed).toBe(true);
    expect(counted.pulled()).toBe(3);
    expect(counted.returned()).toBe(true);
  });

  it('unsubscribing cancels the pending tick; finalize runs upstream first', () => {
    const { scheduler } = countingScheduler();
    const order: string[] = [];
    const events = new Subject<number>();
    const sub = events
      .pipe(
        finalize(() => order.push('source')),
        boundedBuffer({ capacity: 4, overflow: 'drop-oldest' }),
        paceDemand({ scheduler, period: 16 }),
        finalize(() => order.push('subscriber')),
      )
      .subscribe();
    events.next(1);
    expect(scheduler.actions).toHaveLength(1);
    sub.unsubscribe();
    expect(scheduler.actions.every((a) => a.closed)).toBe(true);
    expect(order).toEqual(['source', 'subscriber']);
    expect(events.observed).toBe(false);
  });

  it('a throwing subscriber callback ends the subscription and releases the source', () => {
    const scheduler = new VirtualTimeScheduler();
    const counted = countingIterable();
    const errors: unknown[] = [];
    fromPull(counted.iterable)
      .pipe(
        paceDemand({ scheduler, period: 1 }),
        map((v) => {
          if (v === 2) throw new Error('render failed');
          return v;
        }),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    scheduler.flush();
    expect(errors).toEqual([new Error('render failed')]);
    expect(counted.returned()).toBe(true);
    expect(counted.pulled()).toBe(3);
  });

  it('reentrancy: a subscriber that pushes into the source while a value is delivered', () => {
    const scheduler = new VirtualTimeScheduler();
    const events = new Subject<number>();
    const seen: number[] = [];
    events
      .pipe(boundedBuffer({ capacity: 8, overflow: 'drop-oldest' }), paceDemand({ scheduler, period: 1 }))
      .subscribe((v) => {
        seen.push(v);
        if (v < 5) events.next(v + 1);
      });
    events.next(0);
    scheduler.flush();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a push source is absorbed by a bounded queue with the error policy by default', () => {
    const scheduler = new VirtualTimeScheduler();
    const events = new Subject<number>();
    const errors: unknown[] = [];
    events.pipe(paceDemand({ scheduler, period: 1, capacity: 2 })).subscribe({ error: (e: unknown) => errors.push(e) });
    for (let i = 0; i < 4; i++) events.next(i);
    expect(errors[0]).toBeInstanceOf(OverflowError);
    expect(events.observed).toBe(false);
  });
});
