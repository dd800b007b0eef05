import { Monitor, type MonitorPort } from '../core/monitor.js';
import type { BufferStats } from '../queue/bounded-queue.js';

/**
 * Counters of one worker-pool subscription. They obey the conservation law (docs/design.md): at
 * every change, `received = queued + inFlight + held + completed + failed + aborted + dropped +
 * discarded`.
 */
export interface WorkerStats {
  /** Values that reached the pool (including those its push-source queue took in). */
  readonly received: number;
  /** Values accepted and waiting for a free worker (including the push-source queue). */
  readonly queued: number;
  /** Values being worked on now (including those waiting to retry). */
  readonly inFlight: number;
  /**
   * Values whose work finished but whose results wait: behind an earlier value in orderedMerge's
   * reorder window, or for a pulling consumer that has not asked.
   */
  readonly held: number;
  /** Values whose work completed and whose results were all delivered downstream. */
  readonly completed: number;
  /** Values whose work failed for good (after retries). */
  readonly failed: number;
  /**
   * Values whose running work was cancelled: an unsubscribe (or a `take(n)` downstream), a
   * sibling's failure under fail-fast, a source error, or a drain deadline.
   */
  readonly aborted: number;
  /** Retries started: a count of attempts, not of values. */
  readonly retried: number;
  /** Values dropped by the push-source queue's overflow policy. */
  readonly dropped: number;
  /** Values that were waiting (queued, or finished and held) when the stream ended. */
  readonly discarded: number;
}

/**
 * A monitor for mergeWorkers and orderedMerge: `snapshot()` reads values received, queued, in
 * flight, held, completed, failed, aborted, dropped and discarded (and retries), `changes` emits
 * them as they change, and `settled` names each value as it reaches its final state.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function workerMonitor(): Monitor<WorkerStats> {
  return new Monitor<WorkerStats>(
    {
      received: 0,
      queued: 0,
      inFlight: 0,
      held: 0,
      completed: 0,
      failed: 0,
      aborted: 0,
      retried: 0,
      dropped: 0,
      discarded: 0,
    },
    'workerMonitor',
  );
}

/**
 * The pool's own counters, and its view of the push-source queue in front of it (whose dropped
 * and discarded values are the pool's too). One object per subscription; only the pool writes it.
 */
export class PoolStats {
  completed = 0;
  failed = 0;
  aborted = 0;
  discarded = 0;
  retried = 0;
  /** Tasks made: values the pool took from its source (or from its queue). */
  accepted = 0;
  held = 0;
  private queue: (() => BufferStats) | undefined;

  constructor(private readonly monitor: MonitorPort<WorkerStats> | undefined) {}

  /**
   * A port for the internal queue, whose counters are read and whose final states are passed on;
   * none when the pool has no monitor, so the queue takes its short path for every value.
   */
  queuePort(): MonitorPort<BufferStats> | undefined {
    return this.monitor === undefined ? undefined : new QueuePort(this, this.monitor);
  }

  /** The queue's counters, once it is attached. */
  attachQueue(reader: () => BufferStats): void {
    this.queue = reader;
  }

  /** Whether the monitor wants each value's final state. */
  get tracing(): boolean {
    return this.monitor !== undefined && this.monitor.tracing;
  }

  // One method per final state, not this[state]++: a keyed increment is slower on the hot path.

  /** Counts one value completed (and names it, when somebody listens). */
  complete(value: unknown): void {
    this.completed++;
    if (this.monitor !== undefined && this.monitor.tracing) this.monitor.settle(value, 'completed');
  }

  fail(value: unknown): void {
    this.failed++;
    if (this.monitor !== undefined && this.monitor.tracing) this.monitor.settle(value, 'failed');
  }

  abort(value: unknown): void {
    this.aborted++;
    if (this.monitor !== undefined && this.monitor.tracing) this.monitor.settle(value, 'aborted');
  }

  discard(value: unknown): void {
    this.discarded++;
    if (this.monitor !== undefined && this.monitor.tracing) this.monitor.settle(value, 'discarded');
  }

  snapshot(queued: number, inFlight: number): WorkerStats {
    const q = this.queue?.();
    return {
      received: q === undefined ? this.accepted : q.received,
      queued: queued + (q?.depth ?? 0),
      inFlight,
      held: this.held,
      completed: this.completed,
      failed: this.failed,
      aborted: this.aborted,
      retried: this.retried,
      dropped: q?.dropped ?? 0,
      discarded: this.discarded + (q?.discarded ?? 0),
    };
  }
}

/**
 * The pool's internal queue's view of the pool's monitor. A class, not a literal with a getter
 * (V8 keeps such a literal in dictionary mode, and the queue reads `tracing` per value).
 */
class QueuePort implements MonitorPort<BufferStats> {
  readonly version = 1;
  readonly kind = 'bufferMonitor';

  constructor(
    private readonly stats: PoolStats,
    private readonly monitor: MonitorPort<WorkerStats>,
  ) {}

  attach(reader: () => BufferStats): void {
    this.stats.attachQueue(reader);
  }

  notify(): void {}

  get tracing(): boolean {
    return this.monitor.tracing;
  }

  settle(value: unknown, state: string): void {
    // A value the queue hands on becomes a task: only its drops and discards are final here.
    if (state !== 'emitted') this.monitor.settle(value, state);
  }
}
