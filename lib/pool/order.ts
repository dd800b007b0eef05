import { Deque } from '../queue/deque.js';
import { HELD, type Task } from './task.js';

/** What a result order needs of its pool. */
export interface OrderHost<T, R> {
  /** Outstanding downstream demand. */
  readonly demand: number;
  /** The current concurrency limit. */
  readonly concurrency: number;
  /** Emits one of `task`'s results downstream. */
  deliver(task: Task<T, R>, result: R): void;
  /** Every result of `task`, whose work is over, has been delivered. */
  delivered(task: Task<T, R>): void;
  /** More results wait than the pool may hold: the pool fails. */
  overflow(): void;
}

/**
 * How results leave the pool: as they come (mergeWorkers) or in the order of the values that
 * produced them (orderedMerge). Two strategies behind one interface, so the engine never asks
 * which one it runs.
 */
export interface ResultOrder<T, R> {
  /** A value was accepted by the pool. */
  accept(task: Task<T, R>): void;
  /**
   * A result arrived from `task`'s inner: delivered at once when nothing is ahead of it (false),
   * else held until `emit` (true).
   */
  offer(task: Task<T, R>, result: R): boolean;
  /** Delivers what waits, as far as demand allows. */
  emit(): void;
  /**
   * `task`'s work completed: true when every result it produced has been delivered, so it is
   * complete at once; false when it is held until they are.
   */
  finished(task: Task<T, R>): boolean;
  /** How many values may be requested, given the free slots (`credit`) and the outstanding requests. */
  credit(credit: number, outstanding: number): number;
  /** A pulling consumer has stopped asking and enough waits: start no more work. */
  backedUp(): boolean;
  /** Nothing waits to be delivered. */
  readonly idle: boolean;
  /** Calls `settle` for each held task, then forgets everything. */
  clear(settle: (task: Task<T, R>) => void): void;
}

/** Results as they come; a result waits only while the consumer is not asking. */
export class Unordered<T, R> implements ResultOrder<T, R> {
  private readonly results = new Deque<R>();
  /** The task of each waiting result, in step with `results`. */
  private readonly owners = new Deque<Task<T, R>>();

  constructor(
    private readonly host: OrderHost<T, R>,
    private readonly resultCapacity: number,
  ) {}

  accept(): void {}

  offer(task: Task<T, R>, result: R): boolean {
    const host = this.host;
    if (host.demand > 0 && this.results.isEmpty) {
      host.deliver(task, result); // fast path: nothing waits ahead of it
      return false;
    }
    return this.hold(task, result);
  }

  private hold(task: Task<T, R>, result: R): boolean {
    const host = this.host;
    // One result per worker (running, plus one waiting) is bounded by the pool already;
    // resultCapacity bounds what extra results an inner adds on top.
    if (this.results.size >= 2 * host.concurrency + this.resultCapacity) {
      host.overflow();
      return false;
    }
    this.results.push(result);
    this.owners.push(task);
    task.pending++;
    return true;
  }

  emit(): void {
    const host = this.host;
    while (!this.results.isEmpty && host.demand > 0) {
      const task = this.owners.shift();
      const result = this.results.shift();
      task.pending--;
      host.deliver(task, result);
      if (task.pending === 0 && task.state === HELD) host.delivered(task);
    }
  }

  finished(task: Task<T, R>): boolean {
    return task.pending === 0;
  }

  credit(credit: number): number {
    return credit;
  }

  backedUp(): boolean {
    const waiting = this.results.size;
    return waiting > 0 && this.host.demand !== Infinity && waiting >= this.host.concurrency;
  }

  get idle(): boolean {
    return this.results.isEmpty;
  }

  clear(settle: (task: Task<T, R>) => void): void {
    // A held task here has results waiting (that is why it is held): settled as not delivered.
    while (!this.owners.isEmpty) {
      const task = this.owners.shift();
      if (task.state === HELD) settle(task);
    }
    this.results.clear();
  }
}

/**
 * Results in input order, through a reorder window of at most `size` values from acceptance to
 * the delivery of their last result. Credit is released on delivery, not on completion, so a slow
 * head holds the window instead of letting finished results pile up behind it.
 */
export class Ordered<T, R> implements ResultOrder<T, R> {
  private readonly window = new Deque<Task<T, R>>();
  /** Results waiting, over every task in the window. */
  private waiting = 0;

  constructor(
    private readonly host: OrderHost<T, R>,
    private readonly size: number,
    private readonly resultCapacity: number,
  ) {}

  accept(task: Task<T, R>): void {
    this.window.push(task);
  }

  offer(task: Task<T, R>, result: R): boolean {
    if (this.window.peek() === task && this.host.demand > 0 && task.delivered) {
      this.host.deliver(task, result); // the head, with nothing of its own waiting
      return false;
    }
    return this.hold(task, result);
  }

  private hold(task: Task<T, R>, result: R): boolean {
    if (this.waiting >= this.size + this.resultCapacity) {
      this.host.overflow();
      return false;
    }
    (task.results ??= new Deque<R>()).push(result);
    this.waiting++;
    return true;
  }

  emit(): void {
    const host = this.host;
    while (!this.window.isEmpty) {
      const head = this.window.peek()!;
      const results = head.results;
      while (host.demand > 0 && results !== undefined && !results.isEmpty) {
        this.waiting--;
        host.deliver(head, results.shift());
      }
      if (!head.done || !head.delivered || this.window.peek() !== head) return;
      this.window.shift();
      if (head.state === HELD) host.delivered(head);
    }
  }

  finished(task: Task<T, R>): boolean {
    // The head with every result out (the usual case when work finishes in order) leaves the
    // window now and is complete at once; any other waits in the window for emit().
    if (this.window.peek() !== task || !task.delivered) return false;
    this.window.shift();
    return true;
  }

  credit(credit: number, outstanding: number): number {
    return Math.min(credit, this.size - this.window.size - outstanding);
  }

  backedUp(): boolean {
    return this.waiting > 0 && this.host.demand !== Infinity && this.waiting >= this.size;
  }

  get idle(): boolean {
    return this.window.isEmpty;
  }

  clear(settle: (task: Task<T, R>) => void): void {
    while (!this.window.isEmpty) {
      const task = this.window.shift();
      if (task.state === HELD) settle(task);
    }
    this.waiting = 0;
  }
}
