import { Subject, type Observable } from 'rxjs';

/**
 * Where a stage reaches a monitor's internals. A registered symbol, not a module-local one or a
 * class check: a monitor made by the CommonJS build (or by a second installed copy) must work with
 * the stages of the ESM build, as the demand handshake does.
 */
const PORT: unique symbol = Symbol.for('rxjs-backpressure.monitor') as never;

/** The version of {@link MonitorPort}; a monitor of another version is refused by name. */
const PORT_VERSION = 1;

/** One value reaching its final state in a stage, as {@link Monitor.settled} reports it. */
export interface Settled<V = unknown> {
  /** The value, as it entered the stage (for batchFresh: a value of a batch, not the batch). */
  readonly value: V;
  /**
   * Its final state, one of the stage's final counters: `emitted`, `dropped` or `discarded`
   * (queues and batchFresh); `completed`, `failed`, `aborted`, `dropped` or `discarded` (pools).
   */
  readonly state: string;
}

/** @internal What a stage needs of a monitor; reached through a registered symbol. */
export interface MonitorPort<S> {
  readonly version: number;
  readonly kind: string;
  /** Binds the monitor to a running stage. */
  attach(reader: () => S): void;
  /** Called by the stage after each change of its counters. */
  notify(): void;
  /** True while somebody subscribes to `settled`: only then does a stage report each value. */
  readonly tracing: boolean;
  /** Reports one value's final state. */
  settle(value: unknown, state: string): void;
}

/**
 * A window onto a running stage's counters. Pass one in a stage's options, then read
 * `snapshot()` at any time or subscribe to `changes`. Snapshots are copies: holding one never
 * pins the stage's state. When several subscriptions share one monitor, it shows the most
 * recently started one.
 *
 * The counters obey the conservation law of docs/design.md: every value that entered the stage
 * is counted in exactly one state, so they add up at every change. `settled` names the values
 * themselves, as each reaches its final state.
 */
export class Monitor<S extends object> {
  /** Every change of the counters, as a snapshot; costs nothing while nobody subscribes. */
  readonly changes: Observable<S>;

  /**
   * Every value reaching its final state, with that state. Costs nothing while nobody
   * subscribes; meant for audits ("which values were discarded at shutdown?") and tests.
   */
  readonly settled: Observable<Settled>;

  /**
   * @param initial The counters before the stage is subscribed.
   * @param kind Which factory made it (`bufferMonitor`, `workerMonitor`, `batchMonitor`): a
   * stage accepts only its own kind, whose counters it fills.
   */
  constructor(
    private readonly initial: S,
    readonly kind: string = 'custom',
  ) {
    const changes = new Subject<S>();
    const settled = new Subject<Settled>();
    this.changes = changes.asObservable();
    this.settled = settled.asObservable();
    let reader: (() => S) | undefined;
    const port: MonitorPort<S> = {
      version: PORT_VERSION,
      kind,
      attach(read) {
        reader = read;
      },
      notify() {
        if (changes.observed && reader !== undefined) changes.next(reader());
      },
      get tracing() {
        return settled.observed;
      },
      settle(value, state) {
        if (settled.observed) settled.next({ value, state });
      },
    };
    Object.defineProperty(this, PORT, { value: port, enumerable: false });
    this.read = () => (reader === undefined ? { ...this.initial } : reader());
  }

  private readonly read: () => S;

  /** The counters now (the initial zeros before the stage is subscribed). */
  snapshot(): S {
    return this.read();
  }
}

/**
 * The internals of `value` when it is a monitor of the given kind from any build or copy of this
 * library; undefined when it is not a monitor at all; throws nothing (the caller names the error).
 */
export function monitorPort<S>(value: unknown, kind: string): MonitorPort<S> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const port = (value as { [PORT]?: MonitorPort<S> })[PORT];
  if (typeof port !== 'object' || port === null || port.version !== PORT_VERSION || port.kind !== kind) {
    return undefined;
  }
  return port;
}
