import { Subject, type Observable } from 'rxjs';
import { PORT, PORT_VERSION, type MonitorPort, type Settled } from './monitor-port.js';

export type { MonitorPort, Settled } from './monitor-port.js';
export { monitorPort } from './monitor-port.js';

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
    const port = new Port<S>(kind, changes, settled);
    Object.defineProperty(this, PORT, { value: port, enumerable: false });
    this.read = () => (port.reader === undefined ? { ...this.initial } : port.reader());
  }

  private readonly read: () => S;

  /** The counters now (the initial zeros before the stage is subscribed). */
  snapshot(): S {
    return this.read();
  }
}

/**
 * A monitor's side that stages use. A class, not a literal with a `tracing` getter: V8 keeps such
 * a literal in dictionary mode, and stages read `tracing` and call `notify` per value.
 */
class Port<S> implements MonitorPort<S> {
  readonly version = PORT_VERSION;
  reader: (() => S) | undefined = undefined;

  constructor(
    readonly kind: string,
    private readonly changes: Subject<S>,
    private readonly settledValues: Subject<Settled>,
  ) {}

  attach(read: () => S): void {
    this.reader = read;
  }

  notify(): void {
    if (this.changes.observed && this.reader !== undefined) this.changes.next(this.reader());
  }

  get tracing(): boolean {
    return this.settledValues.observed;
  }

  settle(value: unknown, state: string): void {
    if (this.settledValues.observed) this.settledValues.next({ value, state });
  }
}
