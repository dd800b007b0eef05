import { Subject, type Observable } from 'rxjs';

/**
 * A window onto a running stage's counters. Pass one in a stage's options, then read
 * `snapshot()` at any time or subscribe to `changes`. Snapshots are copies: holding one never
 * pins the stage's state. When several subscriptions share one monitor, it shows the most
 * recently started one.
 */
export class Monitor<S extends object> {
  private reader: (() => S) | undefined;
  private readonly subject = new Subject<S>();

  /** Every change of the counters, as a snapshot; costs nothing while nobody subscribes. */
  readonly changes: Observable<S> = this.subject.asObservable();

  /**
   * @param initial The counters before the stage is subscribed.
   * @param kind Which factory made it (`bufferMonitor`, `workerMonitor`, `batchMonitor`): a
   * stage accepts only its own kind, whose counters it fills.
   */
  constructor(
    private readonly initial: S,
    readonly kind: string = 'custom',
  ) {}

  /** The counters now (the initial zeros before the stage is subscribed). */
  snapshot(): S {
    return this.reader === undefined ? { ...this.initial } : this.reader();
  }

  /** @internal Binds the monitor to a running stage. */
  attach(reader: () => S): void {
    this.reader = reader;
  }

  /** @internal Called by the stage after each change. */
  notify(): void {
    if (this.subject.observed && this.reader !== undefined) this.subject.next(this.reader());
  }
}
