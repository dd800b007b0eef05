import type { Observable, Subscription } from 'rxjs';
import { CancelledError, OverflowError, ProtocolError, TimeoutError, type CancelReason } from '../core/errors.js';
import { Credit } from '../core/credit.js';
import { currentLedger, type StageEntry } from '../core/ledger.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import { END, type Cancellation, type DemandObservable, type DemandObserver } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { pausableOf } from '../queue/absorb.js';
import { IMPLICIT_QUEUE_ADVICE } from '../queue/bounded-queue.js';
import { Deque } from '../queue/deque.js';
import { Attempts } from './attempt.js';
import type { PoolConfig } from './config.js';
import { followConcurrency, type ConcurrencyHost } from './concurrency.js';
import { Ordered, Unordered, type OrderHost, type ResultOrder } from './order.js';
import { backoff, retryAllowed } from './retry.js';
import { PoolStats, type WorkerStats } from './stats.js';
import {
  DONE_ABORTED,
  DONE_COMPLETED,
  DONE_DISCARDED,
  DONE_FAILED,
  HELD,
  IN_FLIGHT,
  Task,
  TaskContext,
  type TaskHost,
} from './task.js';

/** @internal The engine behind mergeWorkers and orderedMerge. */
export function workerPool<T, R>(source: Observable<T>, config: PoolConfig<T, R>): DemandObservable<R> {
  return demandSource<R>(config.name, (sink) => new Pool(source, config, sink));
}

/**
 * One subscription of a pool: slots, the values waiting for one, the running work, and the drain
 * loop. What varies lives in strategies (the result order, lib/pool/order.ts), helpers (attempts,
 * retry, the concurrency source, the counters) and the config; this class only moves values from
 * state to state (docs/design.md, "The conservation law"), one small method per move.
 *
 * It observes its source itself (`next`, `error`, `complete`), so no closure is made per
 * subscription for that.
 */
class Pool<T, R> implements Producer, DemandObserver<T>, TaskHost<R>, OrderHost<T, R>, ConcurrencyHost {
  finished = false;
  concurrency: number;
  private readonly waiting = new Deque<Task<T, R>>();
  // Running tasks, as a doubly linked list through the tasks themselves.
  private firstRunning: Task<T, R> | undefined = undefined;
  private lastRunning: Task<T, R> | undefined = undefined;
  private runningCount = 0;
  /** Completed tasks kept for reuse, linked through `after` (`recycle`). */
  private spare: Task<T, R> | undefined = undefined;
  private upstream: Upstream<T> | undefined = undefined;
  private concurrencySub: Subscription | undefined = undefined;
  /** What the source was asked for and has not sent yet. */
  private credit: Credit | undefined = undefined;
  /** Inside requestMore's call to the source. */
  private requesting = false;
  /**
   * Inside this pool's pump, or starting a pushed value in place (`startInPlace`): a value that
   * arrives now waits for the pump.
   */
  private pumping = false;
  private nextIndex = 0;
  private upstreamDone = false;
  private readonly stats: PoolStats;
  private readonly order: ResultOrder<T, R>;
  private readonly attempts: Attempts<T, R>;
  /** This stage's account in a drained segment, if it is in one. */
  private readonly ledger: StageEntry | undefined;
  /** Whether work had begun on the values reaching the pool (a pool after a pool). */
  private inputStarted = false;
  /**
   * Keyed concurrency: each busy key (one of its values waiting to start or running) and the
   * values of that key that wait behind it, in input order. A key leaves the map when its last
   * value's work is over.
   */
  private readonly lanes: Map<unknown, Deque<Task<T, R>>> | undefined;
  /** Values waiting in `lanes`: queued, but not startable until their key is free. */
  private blocked = 0;

  constructor(
    private readonly source: Observable<T>,
    private readonly config: PoolConfig<T, R>,
    private readonly sink: ProducerSink<R>,
  ) {
    this.concurrency = typeof config.concurrency === 'number' ? config.concurrency : 0;
    this.stats = new PoolStats(config.monitor);
    config.monitor?.attach(() => this.stats.snapshot(this.waiting.size + this.blocked, this.runningCount));
    this.order = config.ordered
      ? new Ordered<T, R>(this, config.window, config.resultCapacity)
      : new Unordered<T, R>(this, config.resultCapacity);
    this.attempts = new Attempts(config.name, config.work, this, config.timeout !== undefined);
    this.ledger = currentLedger()?.stage(config.name);
    this.lanes = config.key === undefined ? undefined : new Map();
  }

  get demand(): number {
    return this.sink.demand;
  }

  // ---- taking values from the source -------------------------------------------------------

  next(value: T): void {
    if (this.finished) return;
    const credit = this.credit;
    if (credit === undefined || credit.outstanding <= 0) {
      // Only a misbehaving pausable source sends unrequested values (push sources reach the
      // pool through its bounded queue); refusing them keeps the pool's memory bounded.
      this.discard(this.taskOf(value), this.inputStarted);
      this.fail(new ProtocolError(`${this.config.name}: the source sent a value that was not requested (rule 1.1)`));
      return;
    }
    credit.received();
    this.accept(value);
  }

  /** A value the pool took: counted (and weighed, in a drained segment) as it arrives. */
  private taskOf(value: T): Task<T, R> {
    const spare = this.spare;
    let task: Task<T, R>;
    if (spare === undefined) task = this.newTask(value);
    else {
      this.spare = spare.after;
      task = spare.reuse(value, this.nextIndex++);
    }
    this.stats.accepted++;
    if (this.ledger !== undefined) this.weigh(task, this.ledger);
    return task;
  }

  /** A task for a value when there is no spare to reuse (the first ones, or a burst beyond them). */
  private newTask(value: T): Task<T, R> {
    return new Task<T, R>(value, this.nextIndex++, this);
  }

  private weigh(task: Task<T, R>, ledger: StageEntry): void {
    task.weight = ledger.ledger.receive();
    this.inputStarted = ledger.ledger.receivedStarted;
  }

  /** A value asked for (requested, or polled from a fused source) starts, or waits for a slot. */
  private accept(value: T): void {
    const task = this.taskOf(value);
    this.order.accept(task);
    if (this.lanes !== undefined && !this.admitKeyed(task)) return;
    // With a slot free and nobody ahead, a value starts at once, whether this pump asked for it
    // (a synchronous source answers inside request) or a push source sent it while the pool was
    // idle: the queue would only hand it straight back. Inside a running inner's synchronous
    // emission (a subscriber that pushes into the source), or inside the pump for any other
    // reason, it waits for the pump, whose loop keeps the stack flat however large the
    // concurrency.
    if ((this.requesting || !this.pumping) && this.attempts.depth === 0 && this.waiting.isEmpty && this.slotFree()) {
      if (this.requesting) this.startTask(task);
      else this.startInPlace(task);
      return;
    }
    this.enqueue(task);
  }

  /** A value that waits for a slot. */
  private enqueue(task: Task<T, R>): void {
    this.waiting.push(task);
    // The pump that asked starts the values itself; a second turn of its loop would find nothing.
    if (!this.requesting) this.sink.schedulePump();
  }

  /**
   * Starts a value a push source sent while the pool was idle, as if inside the pump: whatever
   * the worker or a synchronous inner causes (a value pushed into the source, a completion, the
   * pool's end) is acted on by one pump turn afterwards, not by a pump nested in the worker call.
   */
  private startInPlace(task: Task<T, R>): void {
    this.pumping = true;
    try {
      this.startTask(task);
    } finally {
      this.pumping = false;
    }
    this.sink.schedulePump();
  }

  error(err: unknown): void {
    if (!this.finished) this.fail(err);
  }

  /**
   * Keyed concurrency: a value whose key is busy waits in its key's lane (counted as queued);
   * false when it did, or when the key function threw (the pool then fails with what it threw).
   */
  private admitKeyed(task: Task<T, R>): boolean {
    const lanes = this.lanes!;
    let key: unknown;
    try {
      key = this.config.key!(task.value);
    } catch (err) {
      this.discard(task, this.inputStarted);
      this.fail(err);
      return false;
    }
    task.key = key;
    const lane = lanes.get(key);
    if (lane === undefined) {
      lanes.set(key, new Deque<Task<T, R>>());
      return true;
    }
    lane.push(task);
    this.blocked++;
    // It used no slot: the pump asks for the next value, to reach other keys behind this one.
    this.sink.schedulePump();
    return false;
  }

  /** Keyed concurrency: `task`'s work is over; the next value of its key may start, or the key is forgotten. */
  private freeKey(task: Task<T, R>): void {
    const lanes = this.lanes!;
    const key = task.key;
    const lane = lanes.get(key);
    if (lane === undefined) return;
    if (lane.isEmpty) {
      lanes.delete(key);
      return;
    }
    // Behind every value already waiting: a busy key's values take turns with the other keys'.
    this.blocked--;
    this.waiting.push(lane.shift());
  }

  complete(): void {
    if (this.finished) return;
    this.upstreamDone = true;
    this.sink.schedulePump();
  }

  // ---- running work --------------------------------------------------------------------------

  private startTask(task: Task<T, R>): void {
    task.state = IN_FLIGHT;
    this.runningCount++;
    if (this.lastRunning === undefined) this.firstRunning = task;
    else this.lastRunning.after = task;
    task.before = this.lastRunning;
    this.lastRunning = task;
    this.attempt(task);
  }

  /** Runs the next attempt of `task`, timed by `timeout` when there is one. */
  private attempt(task: Task<T, R>): void {
    if (this.config.timeout === undefined) this.attempts.run(task);
    else this.attemptTimed(task, this.config.timeout);
  }

  private attemptTimed(task: Task<T, R>, timeout: number): void {
    const token = task.token + 1; // the attempt's, once run() has started it
    this.attempts.run(task);
    // Armed after the attempt started (a synchronous inner may be over already), for this attempt
    // only: not if the task has gone on meanwhile (completed and reused for another value).
    if (task.done || this.finished || task.token !== token) return;
    if (task.extra?.retryTimer !== undefined) return;
    task.more().timeoutTimer = this.config.scheduler.schedule(() => this.onTimeout(task, token), timeout);
  }

  private disarm(task: Task<T, R>): void {
    task.extra?.cancelTimeout();
  }

  /** The attempt ran past `timeout`: its signal aborts, its inner is let go, and it fails. */
  private onTimeout(task: Task<T, R>, token: number): void {
    // A stale timer must not clear the handle of the attempt that runs now.
    if (this.finished || task.done || task.token !== token) return;
    const extra = task.more();
    extra.timeoutTimer = undefined;
    task.token++; // the timed-out attempt's promise, if it settles later, is ignored
    const err = new TimeoutError(this.config.name, this.config.timeout!, task.index, task.attempt);
    const controller = extra.controller;
    extra.controller = undefined; // the next attempt gets a signal of its own
    controller?.abort(err);
    const subscription = task.subscription;
    task.subscription = undefined;
    subscription?.cancel();
    this.onTaskError(task, err);
  }

  private stopRunning(task: Task<T, R>): void {
    const { before, after } = task;
    if (before === undefined) this.firstRunning = after;
    else before.after = after;
    if (after === undefined) this.lastRunning = before;
    else after.before = before;
    task.before = task.after = undefined;
    this.runningCount--;
  }

  onResult(task: Task<T, R>, result: R): void {
    if (this.finished || task.done) return;
    if (this.order.offer(task, result)) this.sink.schedulePump();
  }

  onTaskComplete(task: Task<T, R>): void {
    if (this.finished || task.done) return;
    this.disarm(task);
    this.endWork(task);
    if (this.order.finished(task)) this.completeTask(task);
    else this.hold(task);
    this.sink.schedulePump();
  }

  onTaskError(task: Task<T, R>, err: unknown): void {
    if (this.finished || task.done) return;
    this.disarm(task);
    task.subscription = undefined;
    let again: boolean;
    try {
      again = retryAllowed(this.config.retry, task, err);
    } catch (callbackError) {
      this.failTask(task, callbackError);
      return;
    }
    if (again) this.scheduleRetry(task);
    else if (this.config.failFast) this.failTask(task, err);
    else this.continueAfter(task, err);
  }

  /** errors: 'continue': the failure is reported and counted, and the slot is freed. */
  private continueAfter(task: Task<T, R>, err: unknown): void {
    this.settleFailed(task);
    try {
      this.config.onError!(err, task.value, new TaskContext(task, task.attempt));
    } catch (callbackError) {
      this.endWork(task);
      this.fail(callbackError, 'sibling-failed');
      return;
    }
    this.endWork(task);
    this.sink.schedulePump();
  }

  /** Fail-fast: ends the pool with this task's error; no other work may start in between. */
  private failTask(task: Task<T, R>, err: unknown): void {
    this.settleFailed(task);
    this.endWork(task);
    this.fail(err, 'sibling-failed');
  }

  private scheduleRetry(task: Task<T, R>): void {
    const wait = backoff(this.config.retry!, task.attempt);
    this.stats.retried++;
    // The slot stays held during the backoff: the value's work is not finished.
    const extra = task.more();
    extra.retryTimer = this.config.scheduler.schedule(() => {
      extra.retryTimer = undefined;
      if (!this.finished && !task.done) this.attempt(task);
    }, wait);
    this.config.monitor?.notify();
  }

  /** The value's work is over: its slot is free. */
  private endWork(task: Task<T, R>): void {
    task.done = true;
    task.subscription = undefined;
    this.stopRunning(task);
    if (this.lanes !== undefined) this.freeKey(task);
  }

  // ---- the states a value ends in (each counted once) -----------------------------------------

  private hold(task: Task<T, R>): void {
    task.state = HELD;
    this.stats.held++;
  }

  private completeTask(task: Task<T, R>): void {
    task.state = DONE_COMPLETED;
    this.stats.complete(task.value);
    // A value with no result left nothing to carry its weight out of the segment.
    if (task.weight > 0) this.ledger?.complete(task.weight); // only a ledger weighs
    task.weight = 0;
    if (!this.finished) this.recycle(task);
  }

  /**
   * Keeps a completed task for the next value. Every caller has taken it out of the running
   * list, the waiting queue, its key's lane and the result order already, and its inner has
   * ended: nothing of the pool refers to it, and a context a worker kept reads only its own
   * fields (TaskContext). The spares are at most the tasks the pool held at once.
   */
  private recycle(task: Task<T, R>): void {
    task.value = undefined as T; // not kept alive by a spare
    task.after = this.spare;
    this.spare = task;
  }

  private settleFailed(task: Task<T, R>): void {
    task.state = DONE_FAILED;
    this.stats.fail(task.value);
    this.ledger?.record('failed', task.weight);
    task.weight = 0;
  }

  private abortTask(task: Task<T, R>): void {
    task.state = DONE_ABORTED;
    this.stats.abort(task.value);
    this.ledger?.record('aborted', task.weight);
    task.weight = 0;
  }

  /** A value that was waiting (`started`: its work had finished, its results were held). */
  private discard(task: Task<T, R>, started: boolean): void {
    if (task.state === HELD) this.stats.held--;
    task.state = DONE_DISCARDED;
    this.stats.discard(task.value);
    this.ledger?.abandon(task.weight, started);
    task.weight = 0;
  }

  // ---- what the result order asks of the pool -------------------------------------------------

  deliver(task: Task<T, R>, result: R): void {
    if (this.ledger !== undefined) this.sendWeight(task, this.ledger);
    this.sink.next(result);
  }

  /** The value's weight leaves with its first result (lib/core/ledger.ts). */
  private sendWeight(task: Task<T, R>, ledger: StageEntry): void {
    ledger.ledger.send(task.weight, true);
    task.weight = 0;
  }

  delivered(task: Task<T, R>): void {
    this.stats.held--;
    this.completeTask(task);
  }

  overflow(): void {
    this.fail(new OverflowError(this.config.name, this.config.resultCapacity, 'error', 'results'));
  }

  // ---- the drain loop (run by the kernel, re-entrancy safe) -----------------------------------

  pump(): void {
    if (this.finished) return;
    // Only startInPlace can be on the stack here (the kernel never nests pumps); it pumps once
    // the start is over.
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.turn();
    } finally {
      this.pumping = false;
    }
  }

  // Each step is called only when it has something to do: V8 inlines only the calls a function
  // has made, and what it inlines into the pool's path per value has a budget (docs/design.md,
  // "What V8 inlines").
  private turn(): void {
    if (!this.order.idle) this.order.emit();
    if (!this.waiting.isEmpty) this.startWaiting();
    if (this.requestMore() && !this.waiting.isEmpty) this.startWaiting();
    this.config.monitor?.notify();
    if (this.upstreamDone && this.isDone()) {
      this.finish();
      this.sink.complete();
    }
  }

  private isDone(): boolean {
    if (this.finished || !this.upstreamDone || !this.waiting.isEmpty || this.blocked > 0) return false;
    return this.runningCount === 0 && this.order.idle;
  }

  private startWaiting(): void {
    while (!this.waiting.isEmpty && this.slotFree()) this.startTask(this.waiting.shift());
  }

  /** Whether one more value may start now. */
  private slotFree(): boolean {
    return !this.finished && this.runningCount < this.concurrency && !this.order.backedUp();
  }

  /** Asks the source for what free slots (and the result order) allow; true when it asked. */
  private requestMore(): boolean {
    const credit = this.credit;
    if (this.finished || this.upstreamDone || this.upstream === undefined || credit === undefined) return false;
    const outstanding = credit.outstanding;
    const free = this.concurrency - this.runningCount - this.waiting.size - outstanding;
    const n = this.order.credit(free, outstanding);
    if (n <= 0 || this.order.backedUp()) return false;
    // Keyed: values blocked behind busy keys are read past, to reach other keys; at most `capacity` of them.
    if (this.blocked >= this.config.capacity) return false;
    this.fetch(this.upstream, credit, n);
    return true;
  }

  /** Takes `n` values from the source: polled when it fused, else requested. */
  private fetch(upstream: Upstream<T>, credit: Credit, n: number): void {
    this.requesting = true;
    try {
      if (upstream.fused) this.pollSource(upstream, n);
      else credit.request(n);
    } finally {
      this.requesting = false;
    }
  }

  /**
   * Synchronous fusion: takes up to `n` values from a source that makes them on the spot, each
   * accepted as if requested, without the request round trip (DemandHandle.fuse).
   */
  private pollSource(upstream: Upstream<T>, n: number): void {
    for (let i = 0; i < n && !this.finished; i++) {
      const value = upstream.poll();
      // The source may end the pool while making a value (a takeUntil notifier fired by its
      // iterator): a finished pool takes nothing more, as next() does not.
      if (value === END || this.finished) return;
      this.acceptPolled(value); // taken, not sent: no credit to check or settle
    }
  }

  /**
   * `accept` for a value this pool's request polled: the same, with the conditions that are
   * true in a request left out (a smaller function on the path of every value polled).
   */
  private acceptPolled(value: T): void {
    const task = this.taskOf(value);
    this.order.accept(task);
    if (this.lanes !== undefined && !this.admitKeyed(task)) return;
    if (this.attempts.depth === 0 && this.waiting.isEmpty && this.slotFree()) this.startTask(task);
    else this.waiting.push(task);
  }

  // ---- the concurrency source -----------------------------------------------------------------

  setConcurrency(limit: number): void {
    this.concurrency = limit;
    this.sink.schedulePump();
  }

  failConcurrency(err: unknown): void {
    this.fail(err);
  }

  // ---- connecting and ending ------------------------------------------------------------------

  connect(): void {
    const config = this.config;
    if (typeof config.concurrency !== 'number') {
      this.concurrencySub = followConcurrency(config.name, config.concurrency, this);
      if (this.finished) return;
    }
    // A source that cannot be paused is absorbed by a bounded queue with the configured policy;
    // from there on the pool always pulls.
    const pausable = pausableOf(this.source, {
      name: config.name,
      capacity: config.capacity,
      overflow: config.overflow,
      onDrop: config.onDrop,
      monitor: this.stats.queuePort(),
      delayError: false,
      overflowAdvice: IMPLICIT_QUEUE_ADVICE(config.name, config.capacity, config.capacityDefaulted),
    });
    const up = upstreamOf(pausable);
    this.upstream = up;
    // Ask before connecting, so a synchronous source behind the push queue feeds the workers
    // directly instead of filling (and overflowing) the queue before the first request.
    const initial = this.order.credit(this.concurrency, 0);
    this.credit = new Credit(up);
    this.credit.expect(initial);
    up.connect(this, initial, true);
    // A source that fused was asked for nothing: it is polled from the first pump on.
    if (up.fused) this.credit.forget(initial);
    this.sink.schedulePump();
  }

  teardown(cancellation?: Cancellation): void {
    this.release(cancellation?.reason ?? 'unsubscribed', cancellation?.cause, cancellation);
  }

  private fail(err: unknown, reason: CancelReason = 'source-failed'): void {
    if (this.finished) return;
    this.release(reason, err);
    this.sink.error(err);
  }

  /** Stops taking values: the concurrency source and the upstream are let go. */
  private finish(cancellation?: Cancellation): void {
    this.finished = true;
    this.spare = undefined;
    this.concurrencySub?.unsubscribe();
    this.concurrencySub = undefined;
    this.upstream?.cancel(cancellation);
    this.upstream = undefined;
  }

  /** Aborts every running worker with a reason, ends every inner, and counts what was waiting. */
  private release(reason: CancelReason, cause?: unknown, cancellation?: Cancellation): void {
    const wasFinished = this.finished;
    this.finish(cancellation);
    if (wasFinished && this.runningCount === 0) return;
    this.abortRunning(reason, cause);
    while (!this.waiting.isEmpty) this.discard(this.waiting.shift(), this.inputStarted);
    this.discardLanes();
    // A held value whose results all got out (the head just before its turn to leave the window,
    // or one with no results) is complete; one with results still waiting is discarded.
    this.order.clear((task) => (task.delivered ? this.delivered(task) : this.discard(task, true)));
    this.config.monitor?.notify();
  }

  private discardLanes(): void {
    if (this.lanes === undefined) return;
    for (const lane of this.lanes.values()) {
      while (!lane.isEmpty) this.discard(lane.shift(), this.inputStarted);
    }
    this.lanes.clear();
    this.blocked = 0;
  }

  private abortRunning(reason: CancelReason, cause: unknown): void {
    let next = this.firstRunning;
    this.firstRunning = this.lastRunning = undefined;
    this.runningCount = 0;
    while (next !== undefined) {
      const task = next;
      next = task.after;
      task.before = task.after = undefined;
      task.extra?.cancelTimers();
      task.done = true;
      if (task.resolved) {
        // A resolved promise whose result is being delivered as take(n) ends: no work to stop,
        // and the value is complete if that result got out.
        if (task.delivered) this.completeTask(task);
        else this.discard(task, true);
      } else {
        task.extra?.controller?.abort(new CancelledError(this.config.name, reason, cause));
        this.abortTask(task);
      }
      const subscription = task.subscription;
      task.subscription = undefined;
      subscription?.cancel();
    }
  }
}

export type { WorkerStats };
