import type { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { ProtocolError, optionTypeError } from '../lib/core/errors.js';
import { Monitor, monitorPort, type MonitorPort } from '../lib/core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { DemandObserver } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalFunction,
  optionalPositiveInteger,
  optionsObject,
  pushOverflowPolicy,
  positiveInteger,
  optionalMonitor,
} from '../lib/core/validate.js';
import { pausableOf } from '../lib/queue/absorb.js';
import { bufferMonitor, type BufferStats } from '../lib/queue/bounded-queue.js';
import { Deque } from '../lib/queue/deque.js';

const NAME = 'broadcast';

/**
 * The most values the broadcast asks its source for before they arrive. It bounds what a
 * subscriber that joins while values are on their way must hold for them, and it is the batch
 * size when every subscriber asks for everything.
 */
export const BROADCAST_MAX_IN_FLIGHT = 64;

/** What {@link broadcast} does to a subscriber that would fall more than `maxLag` values behind. */
export type LagPolicy = 'drop' | 'error' | 'detach';

/** Raised to a subscriber of {@link broadcast} that fell more than `maxLag` values behind, under `onLag: 'error'`. */
export class LagError extends Error {
  override readonly name = 'LagError';
  constructor(
    /** The operator, `broadcast`. */
    readonly operator: string,
    /** The lag the subscriber was allowed. */
    readonly maxLag: number,
  ) {
    super(`${operator}: the subscriber fell more than maxLag (${maxLag}) values behind (onLag 'error')`);
  }
}

/** Counters of one {@link broadcast} (over all its subscribers and connections). */
export interface BroadcastStats {
  /** Values that reached the broadcast from its source (out of the push-source queue, if any). */
  readonly received: number;
  /** Copies handed to subscribers: every received value once per subscriber present. */
  readonly offered: number;
  /** Copies emitted to subscribers. */
  readonly emitted: number;
  /** Copies a laggard missed under `onLag: 'drop'`. */
  readonly dropped: number;
  /**
   * Copies thrown away: a laggard's held values and the one that overflowed under `'error'`, the
   * one that overflowed under `'detach'`, and what a subscriber held when it left or the source failed.
   */
  readonly discarded: number;
  /** Copies held now for subscribers that have not asked for them yet. */
  readonly held: number;
  /** Values that arrived when no subscriber was left to take them. */
  readonly unclaimed: number;
  /** Subscribers present now (detached ones that still drain are not counted). */
  readonly subscribers: number;
  /** Subscribers failed or detached by the lag policy. */
  readonly laggards: number;
  /** Times the source was subscribed. */
  readonly connections: number;
  /** The push-source queue's counters; absent while the source is pausable. */
  readonly queue: BufferStats | undefined;
}

/** Passed to `onDrop` with every copy a laggard misses under `onLag: 'drop'`. */
export interface LagDropEvent {
  readonly operator: string;
  readonly maxLag: number;
  /** Which subscriber missed it: 1 for the first subscription to this broadcast, 2 for the next, ... */
  readonly subscriber: number;
}

/** Options of {@link broadcast}; all optional. */
export interface BroadcastOptions<T> {
  /**
   * Subscribe to the source only once this many subscribers are present (an integer >= 1,
   * default 1), so that the first one does not take a synchronous source alone.
   */
  connectAt?: number;
  /**
   * Without it (the default) the slowest subscriber sets the pace and nothing is lost. With it
   * the fastest sets the pace, and any other may fall this many values behind (held for it)
   * before `onLag` applies to it; an integer >= 1.
   */
  maxLag?: number;
  /**
   * With `maxLag`: what happens to a subscriber that would fall one value more behind (default
   * `'error'`). `'drop'`: it misses that value (counted, passed to `onDrop`) and keeps the ones
   * held; `'error'`: it receives a {@link LagError} and leaves; `'detach'`: it gets no new
   * values, receives the ones held, then completes.
   */
  onLag?: LagPolicy;
  /** Called with each copy a laggard misses under `onLag: 'drop'`. If it throws, that subscriber errors. */
  onDrop?: (value: T, event: LagDropEvent) => void;
  /** For a source that cannot be paused: how many values may wait (default 1024). */
  capacity?: number;
  /** For a source that cannot be paused: what a full queue does (default `'error'`; `'block'` is refused). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error';
  /** Receives live counters; create one with {@link broadcastMonitor}. */
  monitor?: Monitor<BroadcastStats>;
}

/**
 * A monitor for {@link broadcast}: copies offered, emitted, dropped, discarded and held, and
 * subscribers present, over every subscriber; `changes` emits them as they change.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function broadcastMonitor(): Monitor<BroadcastStats> {
  return new Monitor<BroadcastStats>(
    {
      received: 0,
      offered: 0,
      emitted: 0,
      dropped: 0,
      discarded: 0,
      held: 0,
      unclaimed: 0,
      subscribers: 0,
      laggards: 0,
      connections: 0,
      queue: undefined,
    },
    'broadcastMonitor',
  );
}

/**
 * Shares one source among several subscribers, each of which gets every value, while keeping
 * demand: the source is read only as fast as the slowest subscriber asks (or, with `maxLag`,
 * as the fastest, with a bounded lag and a policy for the others).
 *
 * ![broadcast](../docs/diagrams/broadcast-slowest-sets-pace.svg)
 *
 * `share()` asks its source for everything and forgets demand; `channel` hands each value to one
 * consumer. `broadcast` is the third thing: a fan-out in which each value goes to every subscriber
 * and the source is asked for a value only when every subscriber has room for it.
 *
 * Connection (refCount): the source is subscribed when `connectAt` subscribers are present
 * (default 1), and released when the last one leaves; a later subscriber connects it afresh, as
 * `share()` does. When the source completes or fails, every subscriber is told, and the next
 * subscriber connects it again.
 *
 * Late subscribers: a subscriber that joins while connected gets every value that arrives from
 * then on (nothing is replayed). Values the source had already been asked for are held for it
 * until it asks (at most {@link BROADCAST_MAX_IN_FLIGHT}), and it sets the pace from then on.
 *
 * Pace:
 * - Without `maxLag` (the default), the source is asked for `min(outstanding demand)` over the
 *   subscribers: the slowest sets the pace, nothing is dropped, and a subscriber that leaves
 *   releases its share at once. An ordinary subscriber asks for everything, so it is paced by
 *   the demand-aware ones; with only ordinary subscribers it behaves like `share()`.
 * - With `maxLag`, the source is asked for the largest outstanding demand: the fastest sets the
 *   pace, and each other subscriber keeps up to `maxLag` values it has not asked for yet. A
 *   subscriber that would fall one more behind gets `onLag` (`'error'` by default): `'drop'` it
 *   misses that value, `'error'` it fails with a {@link LagError}, `'detach'` it completes after
 *   the values it holds. Every copy is counted (`monitor`): offered = emitted + dropped +
 *   discarded + held.
 *
 * A source that cannot be paused is absorbed first by the bounded queue (`capacity` default
 * 1024, `overflow` default `'error'`), so a slow subscriber is never overrun.
 *
 * ## Warnings
 * With `connectAt` 1 (the default) and a synchronous source, the first subscriber gets
 * everything during its `subscribe()`, before a second one can join: give `connectAt` the number
 * of subscribers. A subscriber that never asks stops the source without `maxLag` (that is what
 * "the slowest sets the pace" means); use `maxLag` with `'detach'` or `'error'` if one may stall.
 *
 * Failure modes guarded against: an unbounded queue per subscriber (`share()` in front of slow
 * consumers: BP-01, ML-01), a laggard's values dropped without a metric (BP-07).
 *
 * ## Example
 * ```ts
 * const events = fromPull(readLines(file)).pipe(broadcast({ connectAt: 2 }));
 * events.pipe(mergeWorkers(writeToDb, { concurrency: 4 })).subscribe();
 * events.pipe(batchFresh({ size: 100 }), mergeWorkers(index, { concurrency: 1 })).subscribe();
 * // the file is read as fast as the slower of the two pipelines asks
 * ```
 *
 * @see {@link channel}, {@link mergeWorkers}, {@link broadcastMonitor}
 * @param options `connectAt`, `maxLag` and `onLag`, `onDrop`, the push-source queue and a monitor.
 * @return A function that returns a demand-aware Observable shared by all its subscribers.
 */
export function broadcast<T>(options?: BroadcastOptions<T>): MonoTypeOperatorFunction<T> {
  const config = resolveConfig<T>(options);
  return (source) => {
    const hub = new Hub<T>(source, config);
    return demandSource<T>(NAME, (sink) => hub.join(sink));
  };
}

interface BroadcastConfig<T> {
  connectAt: number;
  maxLag: number | undefined;
  onLag: LagPolicy;
  onDrop: ((value: T, event: LagDropEvent) => void) | undefined;
  capacity: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  monitor: MonitorPort<BroadcastStats> | undefined;
}

function resolveConfig<T>(options: unknown): BroadcastConfig<T> {
  const opts = optionsObject<BroadcastOptions<T>>(NAME, options, false, [
    'connectAt',
    'maxLag',
    'onLag',
    'onDrop',
    'capacity',
    'overflow',
    'monitor',
  ]);
  const maxLag = opts.maxLag === undefined ? undefined : positiveInteger(NAME, 'maxLag', opts.maxLag);
  const onLag = opts.onLag === undefined ? 'error' : opts.onLag;
  if (onLag !== 'drop' && onLag !== 'error' && onLag !== 'detach') {
    throw optionTypeError(NAME, 'onLag', "'drop', 'error' or 'detach'", onLag);
  }
  if (opts.onLag !== undefined && maxLag === undefined) {
    throw new TypeError(
      `${NAME}: 'onLag' needs 'maxLag' (without it the slowest subscriber sets the pace, no one lags)`,
    );
  }
  const overflow = pushOverflowPolicy(NAME, opts.overflow);
  const monitor = optionalMonitor<BroadcastStats>(NAME, opts.monitor, 'broadcastMonitor');
  return {
    connectAt: optionalPositiveInteger(NAME, 'connectAt', opts.connectAt, 1),
    maxLag,
    onLag,
    onDrop: optionalFunction(NAME, 'onDrop', opts.onDrop),
    capacity: optionalPositiveInteger(NAME, 'capacity', opts.capacity, 1024),
    overflow,
    monitor,
  };
}

type MemberState = 'live' | 'draining' | 'gone';

/**
 * One subscriber, and the producer the kernel drives for it. `live`: gets new values and sets
 * the pace; `draining`: only empties `held`.
 */
class Member<T> implements Producer {
  readonly held = new Deque<T>();
  state: MemberState = 'live';

  constructor(
    private readonly hub: Hub<T>,
    readonly sink: ProducerSink<T>,
    readonly id: number,
    /** The connection it gets values from; undefined while it waits for `connectAt`. */
    public conn: Connection<T> | undefined,
  ) {}

  pump(): void {
    this.hub.run();
  }

  teardown(): void {
    // Only this subscriber's share is abandoned: the source is shared, so its cancellation
    // is not passed upstream (the source is released when the last subscriber leaves).
    this.hub.leave(this);
  }

  connect(): void {
    this.hub.memberConnected();
  }
}

/** One subscription to the source; it passes the source's signals to the hub, tagged with itself. */
class Connection<T> implements DemandObserver<T> {
  readonly upstream: Upstream<T>;
  /** Requested and not yet distributed (on its way, or in the inbox). */
  pending = 0;
  /** Values received and not yet distributed: non-empty only while a distribution runs. */
  readonly inbox = new Deque<T>();
  /** Set when the source ended; acted on once the inbox is empty. */
  end: { readonly failure: { readonly err: unknown } | undefined } | undefined = undefined;

  constructor(
    private readonly hub: Hub<T>,
    pullable: Observable<T>,
  ) {
    this.upstream = upstreamOf(pullable);
  }

  next(value: T): void {
    this.hub.onValue(this, value);
  }

  error(err: unknown): void {
    this.hub.onEnd(this, { err });
  }

  complete(): void {
    this.hub.onEnd(this, undefined);
  }
}

/**
 * The state one broadcast shares among its subscribers. Every copy offered ends in exactly one
 * of: emitted, dropped (a laggard under `'drop'`), discarded, or is still held.
 */
class Hub<T> {
  private readonly members: Member<T>[] = [];
  private connection: Connection<T> | undefined = undefined;
  private queueMonitor: Monitor<BufferStats> | undefined = undefined;
  private nextId = 1;
  /** Members in state 'live'. */
  private liveMembers = 0;
  /** A member is 'gone' and still in `members`. */
  private departed = false;
  private running = false;
  private again = false;
  private received = 0;
  private offered = 0;
  private emitted = 0;
  private dropped = 0;
  private discarded = 0;
  private unclaimed = 0;
  private laggards = 0;
  private connections = 0;

  constructor(
    private readonly source: Observable<T>,
    private readonly config: BroadcastConfig<T>,
  ) {
    config.monitor?.attach(() => this.stats());
  }

  private stats(): BroadcastStats {
    let held = 0;
    for (const m of this.members) held += m.held.size;
    return {
      received: this.received,
      offered: this.offered,
      emitted: this.emitted,
      dropped: this.dropped,
      discarded: this.discarded,
      held,
      unclaimed: this.unclaimed,
      subscribers: this.liveMembers,
      laggards: this.laggards,
      connections: this.connections,
      queue: this.queueMonitor?.snapshot(),
    };
  }

  // ---- subscribers joining and leaving -------------------------------------------------------

  join(sink: ProducerSink<T>): Producer {
    const member = new Member<T>(this, sink, this.nextId++, this.connection);
    this.members.push(member);
    this.liveMembers++;
    return member;
  }

  /** A subscriber was connected by the kernel: the source is subscribed once `connectAt` are present. */
  memberConnected(): void {
    if (this.connection === undefined && this.liveMembers >= this.config.connectAt) this.connect();
    this.run();
  }

  /** Called by the kernel once per subscriber: on its terminal signal or its cancel. */
  leave(member: Member<T>): void {
    if (member.state === 'gone') return;
    this.discarded += member.held.size;
    member.held.clear();
    this.setState(member, 'gone');
    this.run(); // releases the source if it was the last live subscriber, else recomputes the pace
  }

  /** The one place a member changes state, so the live count stays right. */
  private setState(m: Member<T>, state: 'draining' | 'gone'): void {
    if (m.state === 'live') this.liveMembers--;
    m.state = state;
    if (state === 'gone') this.departed = true;
  }

  /** Drops departed members; deferred while a loop runs over `members`. */
  private compact(): void {
    if (!this.departed) return;
    this.departed = false;
    const members = this.members;
    for (let i = members.length - 1; i >= 0; i--) if (members[i]!.state === 'gone') members.splice(i, 1);
  }

  // ---- the source ----------------------------------------------------------------------------

  private connect(): void {
    const { config, source } = this;
    this.connections++;
    const queueMonitor = bufferMonitor();
    const pullable = pausableOf(source, {
      name: NAME,
      capacity: config.capacity,
      overflow: config.overflow,
      onDrop: undefined,
      monitor: monitorPort<BufferStats>(queueMonitor, 'bufferMonitor'),
      delayError: false,
    });
    this.queueMonitor = pullable === source ? undefined : queueMonitor;
    const conn = new Connection<T>(this, pullable);
    this.connection = conn;
    for (const m of this.members) if (m.state === 'live') m.conn = conn;
    // Asked before the source starts, so a synchronous one delivers it during the subscription
    // instead of filling the push-source queue before anyone has asked.
    const first = Math.max(0, this.wanted(conn));
    conn.pending = first;
    conn.upstream.connect(conn, first);
  }

  private disconnect(): void {
    const conn = this.connection;
    this.connection = undefined;
    if (conn === undefined) return;
    this.unclaimed += conn.inbox.size;
    conn.inbox.clear();
    conn.upstream.cancel();
  }

  onValue(conn: Connection<T>, value: T): void {
    if (conn !== this.connection || conn.end !== undefined) return;
    if (conn.pending === 0) {
      // Every value is requested for all subscribers; one more could overrun one of them.
      conn.end = {
        failure: { err: new ProtocolError(`${NAME}: the source sent a value that was not requested (rule 1.1)`) },
      };
      this.run();
      return;
    }
    conn.pending--;
    this.received++;
    conn.inbox.push(value);
    this.run();
  }

  onEnd(conn: Connection<T>, failure: { err: unknown } | undefined): void {
    if (conn !== this.connection || conn.end !== undefined) return;
    conn.end = { failure };
    this.run();
  }

  /** The source ended; values received before the end have been distributed (they were asked for). */
  private ended(conn: Connection<T>): void {
    const failure = conn.end?.failure;
    this.disconnect();
    if (failure !== undefined) {
      // Every subscriber present is told at once; what it held is discarded (counted in leave).
      // (A subscriber still draining an earlier connection's values is not told.)
      for (const m of this.members.slice()) if (m.state !== 'gone' && m.conn === conn) m.sink.error(failure.err);
      return;
    }
    for (const m of this.members) if (m.state === 'live') this.setState(m, 'draining');
  }

  // ---- distributing values -------------------------------------------------------------------

  /** One value to every live subscriber: at once if it has asked, otherwise held or lagging. */
  private distribute(value: T): void {
    const { members, config } = this;
    let takers = 0;
    // A subscriber that joins from inside next gets the values that arrive after it, not this one.
    const present = members.length;
    for (let i = 0; i < present; i++) {
      const m = members[i]!;
      if (m.state !== 'live') continue;
      takers++;
      this.offered++;
      if (m.held.isEmpty && m.sink.demand > 0) {
        this.emitted++;
        m.sink.next(value);
      } else if (config.maxLag === undefined || m.held.size < config.maxLag) {
        // Without maxLag only a late subscriber holds values: those on their way when it joined.
        m.held.push(value);
      } else {
        this.lagged(m, value);
      }
    }
    if (takers === 0) this.unclaimed++;
  }

  private lagged(m: Member<T>, value: T): void {
    const { onLag, onDrop, maxLag } = this.config;
    if (onLag === 'drop') {
      this.dropped++;
      if (onDrop === undefined) return;
      try {
        onDrop(value, { operator: NAME, maxLag: maxLag!, subscriber: m.id });
      } catch (err) {
        m.sink.error(err);
      }
      return;
    }
    this.laggards++;
    this.discarded++; // the value that did not fit
    if (onLag === 'error') m.sink.error(new LagError(NAME, maxLag!));
    else this.setState(m, 'draining'); // detach: no new values; completes once `held` is empty
  }

  /**
   * The drain loop, shared by every subscriber's pump and by arrivals; re-entrancy safe (a
   * subscriber that requests, unsubscribes or pushes into the source from inside next only
   * marks `again`), so every subscriber sees the values in source order.
   */
  run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again);
    } finally {
      this.running = false;
    }
    this.config.monitor?.notify();
  }

  /** One pass of the drain loop: the inbox, the end, held values, departures, then demand. */
  private step(): void {
    const conn = this.connection;
    if (conn !== undefined) {
      while (!conn.inbox.isEmpty && conn === this.connection) this.distribute(conn.inbox.shift());
      if (conn === this.connection && conn.end !== undefined) this.ended(conn);
    }
    this.drainHeld();
    this.compact();
    // The last live subscriber left (or was detached): release the source, as share() does.
    if (this.connection !== undefined && this.liveMembers === 0) this.disconnect();
    if (this.connection !== undefined) this.request(this.connection);
  }

  private drainHeld(): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      while (m.state !== 'gone' && m.sink.demand > 0 && !m.held.isEmpty) {
        this.emitted++;
        m.sink.next(m.held.shift());
      }
      if (m.state === 'draining' && m.held.isEmpty) m.sink.complete();
    }
  }

  /**
   * Asks the source for what every live subscriber can take (the smallest room), or, with
   * `maxLag`, what the most eager one can take (the largest room): room is outstanding demand
   * minus values held for it, and the values already on their way count against it.
   */
  private request(conn: Connection<T>): void {
    const want = this.wanted(conn);
    // Topped up in halves rather than one by one, so a fast stream makes one request per 32
    // values; with nothing on its way, whatever is wanted is asked for at once.
    if (want > 0 && (conn.pending === 0 || want >= BROADCAST_MAX_IN_FLIGHT / 2)) {
      conn.pending += want;
      conn.upstream.request(want);
    }
  }

  private wanted(conn: Connection<T>): number {
    const maxLag = this.config.maxLag;
    let room = maxLag === undefined ? Infinity : 0;
    let live = 0;
    for (const m of this.members) {
      if (m.state !== 'live') continue;
      live++;
      const r = m.sink.demand - m.held.size;
      room = maxLag === undefined ? Math.min(room, r) : Math.max(room, r);
    }
    if (live === 0) return 0;
    return Math.min(room, BROADCAST_MAX_IN_FLIGHT) - conn.pending;
  }
}
