/**
 * Properties of rateLimit and broadcast (issue 16), on random timelines in virtual time, with the
 * reliability harness: spies (`hop`) check the handshake on each hop, fixtures count their own
 * subscriptions, and every run must end with no timer and no subscription left.
 *
 * Values are objects, and every check is by identity: each value that entered a stage is found in
 * exactly one counted state (emitted, passed to onDrop, or counted as discarded / still held), and
 * the monitor's counters add up to the same.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import {
  BROADCAST_MAX_IN_FLIGHT,
  LagError,
  broadcast,
  broadcastMonitor,
  fromPull,
  rateLimit,
  rateMonitor,
  type LagPolicy,
} from '../../index.js';
import { demandProtocolOf, type DemandHandle } from '../../lib/core/protocol.js';
import {
  fcParams,
  hop,
  inVirtualTime,
  pullIterable,
  pushSource,
  type ErrorEvent,
  type Lifecycle,
  type PushPlan,
  type World,
} from './harness.js';

// ---- sources of objects ----------------------------------------------------------------------------

interface Item {
  readonly id: number;
}

type SourcePlan = { readonly kind: 'pull'; readonly n: number } | ({ readonly kind: 'push' } & PushPlan);

const gap = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) },
);

const sourcePlanArb: fc.Arbitrary<SourcePlan> = fc.oneof(
  fc.record({ kind: fc.constant('pull' as const), n: fc.integer({ min: 0, max: 24 }) }),
  fc.record({
    kind: fc.constant('push' as const),
    syncPrefix: fc.integer({ min: 0, max: 4 }),
    gaps: fc.array(gap, { maxLength: 20 }),
    end: fc.constantFrom('complete' as const, 'error' as const, 'never' as const),
    endGap: gap,
  }),
);

interface BuiltSource {
  readonly source: Observable<Item>;
  readonly life: Lifecycle;
  /** The objects the source emitted so far, in order. */
  readonly emitted: () => readonly Item[];
  readonly errors: ErrorEvent[];
}

/** The fixture source, its numbers mapped to objects (one object per number, made up front). */
function buildSource(world: World, plan: SourcePlan): BuiltSource {
  const errors: ErrorEvent[] = [];
  const size = plan.kind === 'pull' ? plan.n : plan.syncPrefix + plan.gaps.length;
  const items: Item[] = Array.from({ length: size }, (_, id) => ({ id }));
  if (plan.kind === 'pull') {
    const { iterable, life, pulled } = pullIterable(world, plan.n, undefined, errors);
    const objects: Iterable<Item> = {
      *[Symbol.iterator]() {
        for (const i of iterable) yield items[i]!;
      },
    };
    return { source: fromPull(objects), life, emitted: () => items.slice(0, pulled()), errors };
  }
  const { source, life, emitted } = pushSource(world, plan, errors);
  return { source: source.pipe(map((i) => items[i]!)), life, emitted: () => items.slice(0, emitted()), errors };
}

// ---- a timed, demand-aware subscriber ---------------------------------------------------------------

type SubscriberPlan =
  | { readonly kind: 'plain' }
  | { readonly kind: 'pull'; readonly initial: number; readonly delay: number; readonly amount: number };

const subscriberPlanArb: fc.Arbitrary<SubscriberPlan> = fc.oneof(
  fc.constant({ kind: 'plain' as const }),
  fc.record({
    kind: fc.constant('pull' as const),
    initial: fc.integer({ min: 1, max: 3 }),
    delay: fc.integer({ min: 0, max: 8 }),
    amount: fc.integer({ min: 1, max: 3 }),
  }),
);

interface Received {
  readonly values: Item[];
  readonly times: number[];
  error: unknown;
  completed: boolean;
  cancel: () => void;
}

/**
 * Subscribes through the handshake (a pull plan) or as an ordinary subscriber (demand Infinity),
 * recording each value with the virtual time it arrived.
 */
function subscribe(world: World, source: Observable<Item>, plan: SubscriberPlan): Received {
  const got: Received = { values: [], times: [], error: undefined, completed: false, cancel: () => undefined };
  const protocol = demandProtocolOf(source)!;
  let handle: DemandHandle | undefined;
  let done = false;
  protocol.subscribe({
    start(h) {
      handle = h;
      h.request(plan.kind === 'plain' ? Infinity : plan.initial);
    },
    next(value) {
      if (done) world.violation('a value after the end');
      got.values.push(value);
      got.times.push(world.now());
      if (plan.kind === 'plain') return;
      if (plan.delay === 0) handle?.request(plan.amount);
      else world.at(world.now() + plan.delay, () => handle?.request(plan.amount));
    },
    error(err) {
      if (done) world.violation('an error after the end');
      done = true;
      got.error = err;
    },
    complete() {
      if (done) world.violation('a completion after the end');
      done = true;
      got.completed = true;
    },
  });
  got.cancel = () => {
    done = true;
    handle?.cancel();
  };
  return got;
}

/** Runs the world's scheduler dry, then the leak check: no timer left, the source released. */
function finish(world: World, built: BuiltSource, open: readonly Received[]): void {
  world.scheduler.flush();
  for (const r of open) r.cancel();
  world.stopDriving();
  world.scheduler.flush();
  if (world.pendingActions() !== 0) world.violation(`${world.pendingActions()} timers left after the end`);
  if (built.life.opened !== built.life.closed) {
    world.violation(`source opened ${built.life.opened} times, closed ${built.life.closed}`);
  }
}

function check(violations: string[]): void {
  if (violations.length > 0) throw new Error(violations.join('\n'));
}

/** `values` are distinct, in the source's order, and all came from the source. */
function inSourceOrder(world: World, what: string, values: readonly Item[], source: readonly Item[]): void {
  const index = new Map(source.map((item, i) => [item, i] as const));
  let last = -1;
  for (const v of values) {
    const i = index.get(v);
    if (i === undefined) world.violation(`${what}: a value that the source never emitted`);
    else if (i <= last) world.violation(`${what}: out of order or twice (${v.id} after #${last})`);
    else last = i;
  }
}

// ---- rateLimit ------------------------------------------------------------------------------------

interface RateSpec {
  readonly source: SourcePlan;
  readonly count: number;
  readonly per: number;
  readonly burstFraction: number;
  readonly capacity: number;
  readonly overflow: 'drop-newest' | 'drop-oldest' | 'error';
  readonly subscriber: SubscriberPlan;
  readonly unsubscribeAt: number | undefined;
}

const rateSpecArb: fc.Arbitrary<RateSpec> = fc.record({
  source: sourcePlanArb,
  count: fc.integer({ min: 1, max: 4 }),
  per: fc.integer({ min: 1, max: 8 }),
  burstFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  capacity: fc.integer({ min: 1, max: 6 }),
  overflow: fc.constantFrom('drop-newest' as const, 'drop-oldest' as const, 'error' as const),
  subscriber: subscriberPlanArb,
  unsubscribeAt: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 3 }),
});

function rateHolds(spec: RateSpec): void {
  check(
    inVirtualTime((world) => {
      const built = buildSource(world, spec.source);
      const burst = Math.max(1, Math.ceil(spec.burstFraction * spec.count));
      const monitor = rateMonitor();
      const dropped: Item[] = [];
      const before = hop<Item>(world, 'source → rateLimit');
      const after = hop<Item>(world, 'rateLimit → subscriber');
      const stage = built.source.pipe(
        before.op,
        rateLimit<Item>({
          count: spec.count,
          per: spec.per,
          burst,
          scheduler: world.scheduler,
          capacity: spec.capacity,
          overflow: spec.overflow,
          onDrop: (v) => dropped.push(v),
          monitor,
        }),
        after.op,
      );
      const got = subscribe(world, stage, spec.subscriber);
      if (spec.unsubscribeAt !== undefined) world.at(spec.unsubscribeAt, () => got.cancel());
      finish(world, built, [got]);

      // The rate: at most `count` in any `per` frames, and `burst` in any per × burst / count.
      const span = (spec.per * burst) / spec.count;
      for (let i = 0; i + spec.count < got.times.length; i++) {
        if (got.times[i + spec.count]! - got.times[i]! < spec.per - 1e-9) {
          world.violation(`more than ${spec.count} values within ${spec.per} frames, at ${got.times[i]}`);
        }
      }
      for (let i = 0; i + burst < got.times.length; i++) {
        if (got.times[i + burst]! - got.times[i]! < span - 1e-9) {
          world.violation(`more than burst ${burst} values within ${span} frames, at ${got.times[i]}`);
        }
      }
      // Not slower than the rate: a pausable source read by a plain subscriber goes at the
      // earliest time each value is allowed (the greedy schedule of both windows).
      if (spec.source.kind === 'pull' && spec.subscriber.kind === 'plain' && spec.unsubscribeAt === undefined) {
        const t = got.times;
        for (let k = 0; k < t.length; k++) {
          let earliest = k === 0 ? 0 : t[k - 1]!;
          if (k >= spec.count) earliest = Math.max(earliest, t[k - spec.count]! + spec.per);
          if (k >= burst) earliest = Math.max(earliest, t[k - burst]! + span);
          if (Math.abs(t[k]! - earliest) > 1e-9) world.violation(`value ${k} at ${t[k]}, allowed at ${earliest}`);
        }
        if (t.length !== spec.source.n || !got.completed) world.violation('a pull source was not read to the end');
      }

      // Conservation, by identity: every value the source emitted was emitted downstream, passed
      // to onDrop, or is counted as discarded (thrown away on error or unsubscribe).
      const source = built.emitted();
      inSourceOrder(world, 'subscriber', got.values, source);
      const seen = new Set<Item>(got.values);
      for (const v of dropped) {
        if (seen.has(v)) world.violation(`value ${v.id} emitted and dropped, or dropped twice`);
        seen.add(v);
      }
      const stats = monitor.snapshot();
      const queue = stats.queue;
      const unseen = source.filter((v) => !seen.has(v)).length;
      const queueLost = queue === undefined ? 0 : queue.discarded + queue.dropped + queue.depth;
      if (stats.emitted !== got.values.length)
        world.violation(`emitted ${stats.emitted}, received ${got.values.length}`);
      if (stats.received !== stats.emitted + stats.discarded + stats.held) {
        world.violation(`rateLimit: received ${stats.received} ≠ emitted + discarded + held`);
      }
      if (queue !== undefined && queue.received !== queue.emitted + queue.dropped + queue.discarded + queue.depth) {
        world.violation('rateLimit queue: received ≠ emitted + dropped + discarded + depth');
      }
      const accounted = got.values.length + stats.discarded + stats.held + queueLost;
      if (accounted !== source.length)
        world.violation(`${source.length} values emitted by the source, ${accounted} accounted for`);
      // Neither emitted nor passed to onDrop: counted as discarded or held (the queue passes the
      // values it drops, and those it throws away on an error, to onDrop, as boundedBuffer does).
      if (unseen !== stats.discarded + stats.held + queueLost - dropped.length) {
        world.violation(`${unseen} values neither emitted nor dropped, the counters say otherwise`);
      }
      if (stats.held > spec.count) world.violation(`held ${stats.held} > count ${spec.count}`);
      // An error is the source's, the queue's OverflowError, or nothing.
      if (got.error !== undefined && built.errors.every((e) => e.err !== got.error)) {
        if (!(got.error instanceof Error && got.error.name === 'OverflowError')) {
          world.violation(`unexpected error ${got.error instanceof Error ? got.error.message : typeof got.error}`);
        }
      }
      // The spy before the limiter sees what the source delivered: to the limiter itself when the
      // source is pausable, to its push-source queue otherwise.
      if (before.log.nexts !== (queue === undefined ? stats.received : queue.received)) {
        world.violation('the limiter counted what it received wrongly');
      }
      if (after.log.nexts !== got.values.length) world.violation('the subscriber missed a value');
      return world.violations;
    }),
  );
}

// ---- broadcast ----------------------------------------------------------------------------------

interface Joiner {
  readonly plan: SubscriberPlan;
  readonly joinAt: number;
  readonly leaveAt: number | undefined;
}

interface BroadcastSpec {
  readonly source: SourcePlan;
  readonly joiners: readonly Joiner[];
  readonly connectAt: number;
  readonly lag: { readonly maxLag: number; readonly onLag: LagPolicy } | undefined;
}

const broadcastSpecArb: fc.Arbitrary<BroadcastSpec> = fc
  .record({
    source: sourcePlanArb,
    joiners: fc.array(
      fc.record({
        plan: subscriberPlanArb,
        joinAt: fc.oneof(
          { weight: 3, arbitrary: fc.constant(0) },
          { weight: 2, arbitrary: fc.integer({ min: 1, max: 12 }) },
        ),
        leaveAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined, freq: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    connectAt: fc.integer({ min: 1, max: 3 }),
    lag: fc.option(
      fc.record({
        maxLag: fc.integer({ min: 1, max: 3 }),
        onLag: fc.constantFrom<LagPolicy>('drop', 'error', 'detach'),
      }),
      { nil: undefined },
    ),
  })
  .map((spec) => ({ ...spec, connectAt: Math.min(spec.connectAt, spec.joiners.length) }));

function broadcastHolds(spec: BroadcastSpec): void {
  check(
    inVirtualTime((world) => {
      const built = buildSource(world, spec.source);
      const monitor = broadcastMonitor();
      const dropped = new Map<number, Item[]>();
      let maxHeld = 0;
      const watch = monitor.changes.subscribe((s) => (maxHeld = Math.max(maxHeld, s.held)));
      const upstream = hop<Item>(world, 'source → broadcast');
      const shared = built.source.pipe(
        upstream.op,
        broadcast<Item>({
          connectAt: spec.connectAt,
          monitor,
          ...(spec.lag === undefined
            ? {}
            : {
                maxLag: spec.lag.maxLag,
                onLag: spec.lag.onLag,
                onDrop: (v: Item, e: { subscriber: number }) =>
                  dropped.set(e.subscriber, [...(dropped.get(e.subscriber) ?? []), v]),
              }),
        }),
      );
      // Joiners in order of their join frame (stable), so that subscriber ids follow that order.
      const order = spec.joiners.map((j, i) => ({ ...j, i })).sort((a, b) => a.joinAt - b.joinAt || a.i - b.i);
      const received: Received[] = [];
      for (const joiner of order) {
        world.at(joiner.joinAt, () => {
          const spy = hop<Item>(world, `broadcast → subscriber ${received.length + 1}`);
          const got = subscribe(world, shared.pipe(spy.op), joiner.plan);
          received.push(got);
          if (joiner.leaveAt !== undefined) world.at(joiner.joinAt + joiner.leaveAt, () => got.cancel());
        });
      }
      finish(world, built, received);
      watch.unsubscribe();

      const source = built.emitted();
      const stats = monitor.snapshot();
      let emitted = 0;
      received.forEach((got, k) => {
        const id = k + 1;
        inSourceOrder(world, `subscriber ${id}`, got.values, source);
        emitted += got.values.length;
        const mine = dropped.get(id) ?? [];
        const seen = new Set<Item>(got.values);
        for (const v of mine) {
          if (seen.has(v)) world.violation(`subscriber ${id}: value ${v.id} both emitted and dropped`);
        }
        // Without maxLag nothing is dropped, so a subscriber's values have no gap, unless the
        // push-source queue dropped before the broadcast (it errors by default, so it cannot).
        if (spec.lag === undefined) {
          const ids = got.values.map((v) => v.id);
          for (let i = 1; i < ids.length; i++) {
            if (ids[i] !== ids[i - 1]! + 1)
              world.violation(`subscriber ${id}: a gap without maxLag (${ids[i - 1]} → ${ids[i]})`);
          }
        }
        if (got.error instanceof LagError && spec.lag?.onLag !== 'error')
          world.violation(`subscriber ${id}: LagError without 'error'`);
      });
      // Subscribers that were all there when the source was connected, never left and completed
      // got the same values.
      const atStart = order.filter((j) => j.joinAt === 0).length;
      const full = received.filter((got, k) => k < atStart && order[k]!.leaveAt === undefined && got.completed);
      if (spec.lag === undefined && atStart === spec.connectAt && full.length > 1) {
        const first = full[0]!.values;
        for (const other of full) {
          if (other.values.length !== first.length || other.values.some((v, i) => v !== first[i])) {
            world.violation('two subscribers present all along got different values');
          }
          // The slowest sets the pace: nobody gets ahead, so each value reaches them all at once.
          if (other.times.some((t, i) => t !== full[0]!.times[i])) {
            world.violation('two subscribers present all along got a value at different times');
          }
        }
      }
      // The conservation law of the copies, and each counter against what was observed.
      if (stats.offered !== stats.emitted + stats.dropped + stats.discarded + stats.held) {
        world.violation(`offered ${stats.offered} ≠ emitted + dropped + discarded + held`);
      }
      if (stats.emitted !== emitted) world.violation(`monitor emitted ${stats.emitted}, subscribers got ${emitted}`);
      const droppedCount = [...dropped.values()].reduce((n, list) => n + list.length, 0);
      if (stats.dropped !== droppedCount)
        world.violation(`monitor dropped ${stats.dropped}, onDrop saw ${droppedCount}`);
      if (stats.held !== 0) world.violation(`${stats.held} copies still held after everyone left`);
      if (stats.received > upstream.log.nexts) world.violation('received more than the source delivered');
      const bound = (spec.lag?.maxLag ?? BROADCAST_MAX_IN_FLIGHT) * spec.joiners.length;
      if (maxHeld > bound) world.violation(`held ${maxHeld} copies, more than ${bound}`);
      // Without maxLag only a late subscriber holds values (those on their way when it joined):
      // when everyone was there at the connection, nobody ever holds one.
      if (spec.lag === undefined && atStart === spec.joiners.length && atStart === spec.connectAt && maxHeld > 0) {
        world.violation(`held ${maxHeld} copies without maxLag and without a late subscriber`);
      }
      return world.violations;
    }),
  );
}

describe('reliability properties: rateLimit and broadcast, in virtual time', () => {
  it('rateLimit: the sliding window and burst hold, no slower than the rate, conservation by identity, no leaks', () => {
    fc.assert(fc.property(rateSpecArb, rateHolds), fcParams());
  });

  it('broadcast: source order, no gap without maxLag, copies conserved by identity, held bounded, no leaks', () => {
    fc.assert(fc.property(broadcastSpecArb, broadcastHolds), fcParams());
  });
});
