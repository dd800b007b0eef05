import { describe, expectTypeOf, it } from 'vitest';
import type { Observable, OperatorFunction } from 'rxjs';
import {
  CancelledError,
  ClosedError,
  DEMAND,
  DrainDeadlineError,
  Monitor,
  OverflowError,
  PROTOCOL_VERSION,
  ProtocolError,
  batchMonitor,
  bufferMonitor,
  channel,
  drainOnComplete,
  fromPull,
  isDemandAware,
  workerMonitor,
  type BatchStats,
  type BufferStats,
  type CancelReason,
  type Channel,
  type DemandHandle,
  type DemandObservable,
  type DemandProtocol,
  type DrainReport,
  type WorkerStats,
} from '../index.js';

/* Type tests for the public signatures not covered beside their operator's behaviour tests. */

describe('public types', () => {
  it('monitors are typed by their stats', () => {
    expectTypeOf(bufferMonitor()).toEqualTypeOf<Monitor<BufferStats>>();
    expectTypeOf(workerMonitor()).toEqualTypeOf<Monitor<WorkerStats>>();
    expectTypeOf(batchMonitor()).toEqualTypeOf<Monitor<BatchStats>>();
    expectTypeOf(bufferMonitor().snapshot()).toEqualTypeOf<BufferStats>();
    expectTypeOf(workerMonitor().changes).toEqualTypeOf<Observable<WorkerStats>>();
  });

  it('channel, fromPull and the handshake', () => {
    expectTypeOf(channel<string>({ capacity: 1 })).toEqualTypeOf<Channel<string>>();
    expectTypeOf(channel<string>({ capacity: 1 }).trySend).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(fromPull([1, 2])).toEqualTypeOf<DemandObservable<number>>();
    expectTypeOf(fromPull([1]) as Observable<number>).toMatchTypeOf<Observable<number>>();
    expectTypeOf(isDemandAware<number>).returns.toEqualTypeOf<boolean>();
    expectTypeOf<DemandObservable<number>[typeof DEMAND]>().toEqualTypeOf<DemandProtocol<number>>();
    expectTypeOf<DemandHandle['request']>().toEqualTypeOf<(n: number) => void>();
    expectTypeOf(PROTOCOL_VERSION).toEqualTypeOf<number>();
  });

  it('drainOnComplete keeps the segment’s types and reports a DrainReport', () => {
    const segment = (source: Observable<number>): Observable<string> => source as never;
    expectTypeOf(drainOnComplete(segment, { deadline: 1 })).toEqualTypeOf<OperatorFunction<number, string>>();
    expectTypeOf<DrainReport['outcome']>().toEqualTypeOf<'drained' | 'deadline' | 'unsubscribed' | 'error'>();
    expectTypeOf(new DrainDeadlineError({} as DrainReport).report).toEqualTypeOf<DrainReport>();
  });

  it('errors carry what they name', () => {
    expectTypeOf(new OverflowError('x', 1, 'error').capacity).toEqualTypeOf<number>();
    expectTypeOf(new CancelledError('x', 'deadline').reason).toEqualTypeOf<CancelReason>();
    expectTypeOf(new ClosedError('x')).toMatchTypeOf<Error>();
    expectTypeOf(new ProtocolError('x')).toMatchTypeOf<Error>();
  });
});
