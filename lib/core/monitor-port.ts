// The part of a monitor that stages use, apart from the Monitor class itself: a stage that was
// given no monitor then bundles neither the class nor RxJS's Subject.

/**
 * Where a stage reaches a monitor's internals. A registered symbol, not a module-local one or a
 * class check: a monitor made by the CommonJS build (or by a second installed copy) must work with
 * the stages of the ESM build, as the demand handshake does.
 */
export const PORT: unique symbol = Symbol.for('rxjs-backpressure.monitor') as never;

/** The version of {@link MonitorPort}; a monitor of another version is refused by name. */
export const PORT_VERSION = 1;

/** One value reaching its final state in a stage, as `Monitor.settled` reports it. */
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
