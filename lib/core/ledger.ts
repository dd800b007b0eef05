/**
 * The ledger of a drained segment (docs/design.md, "The conservation law"): how drainOnComplete
 * learns the final state of every value that entered its segment, whatever the stages inside do
 * to the number of items (a batch of ten values is one item; a worker may emit several results).
 *
 * Each item that travels between stages of the segment carries a weight: how many of the
 * segment's values it stands for, and whether work on them has begun. The weight travels beside
 * the item, not inside it: a stage sets it just before it emits an item and the next stage reads
 * it as the item arrives, which is the same synchronous call (`next`), so nothing is wrapped and a
 * native operator such as `map` between two stages passes it through. The first item read after a
 * weight was set takes all of it; a further item from the same emission (a worker's second result)
 * weighs nothing, so the values are counted once.
 *
 * Stages find the ledger while they are subscribed: drainOnComplete subscribes to its segment
 * inside {@link withLedger}, and the subscription runs synchronously from the outlet up to the
 * intake, so every stage of the segment (and none before it: the intake clears the ledger before
 * subscribing to its own source) picks it up with {@link currentLedger}.
 */

/** The final states a segment's values can reach, besides leaving the segment. */
export type LedgerState = 'completed' | 'dropped' | 'failed' | 'aborted' | 'neverStarted' | 'undelivered';

/** What one stage of a segment did with the values that reached it, in segment values. */
export interface StageCounts {
  /** The stage, e.g. `mergeWorkers`. */
  readonly operator: string;
  /** Values its overflow policy dropped. */
  readonly dropped: number;
  /** Values whose work failed for good. */
  readonly failed: number;
  /** Values whose running work it aborted (deadline, unsubscribe, a sibling's failure). */
  readonly aborted: number;
  /** Values it held that no work had begun on when the segment ended: safe to run again. */
  readonly neverStarted: number;
  /** Values whose work finished but whose results it still held when the segment ended. */
  readonly undelivered: number;
}

type MutableCounts = { -readonly [K in keyof StageCounts]: StageCounts[K] };

/** @internal One drained segment's accounts. */
export class Ledger {
  /** The weight of the item being handed from one stage to the next. */
  private weight = 0;
  /** Whether work on the values of the item being handed over has begun. */
  private started = false;
  private readonly stageList: MutableCounts[] = [];
  /** What left the segment: the outlet's share. */
  completed = 0;

  /**
   * @param parent The ledger of an enclosing drain, which is told everything this one is.
   */
  constructor(readonly parent: Ledger | undefined) {}

  /** Sets the weight of the item about to be emitted. */
  send(weight: number, started: boolean): void {
    this.weight = weight;
    this.started = started;
  }

  /** Reads the weight of the item that just arrived; the next read of the same emission gets 0. */
  receive(): number {
    const weight = this.weight;
    this.weight = 0;
    return weight;
  }

  /** Whether work has begun on the values of the item that just arrived. */
  get receivedStarted(): boolean {
    return this.started;
  }

  /** A stage's entry, made when the stage starts, so the report lists stages in a stable order. */
  stage(operator: string): StageEntry {
    const counts: MutableCounts = {
      operator,
      dropped: 0,
      failed: 0,
      aborted: 0,
      neverStarted: 0,
      undelivered: 0,
    };
    this.stageList.push(counts);
    return new StageEntry(this, counts);
  }

  /** @internal */
  record(counts: MutableCounts, state: Exclude<LedgerState, 'completed'>, weight: number): void {
    if (weight === 0) return;
    counts[state] += weight;
    this.parent?.recordFromChild(counts.operator, state, weight);
  }

  private recordFromChild(operator: string, state: Exclude<LedgerState, 'completed'>, weight: number): void {
    let counts = this.stageList.find((s) => s.operator === operator);
    if (counts === undefined) {
      counts = { operator, dropped: 0, failed: 0, aborted: 0, neverStarted: 0, undelivered: 0 };
      this.stageList.push(counts);
    }
    this.record(counts, state, weight);
  }

  /**
   * The stages that lost anything, in pipeline order (stages start from the outlet up, so the
   * list is read backwards).
   */
  stages(): StageCounts[] {
    return [...this.stageList]
      .reverse()
      .filter((s) => s.dropped + s.failed + s.aborted + s.neverStarted + s.undelivered > 0)
      .map((s) => ({ ...s }));
  }

  /** The sum of one state over every stage. */
  total(state: Exclude<LedgerState, 'completed'>): number {
    let sum = 0;
    for (const s of this.stageList) sum += s[state];
    return sum;
  }
}

/** @internal A stage's handle on the ledger. */
export class StageEntry {
  constructor(
    readonly ledger: Ledger,
    private readonly counts: MutableCounts,
  ) {}

  /** Counts `weight` segment values in a final state. */
  record(state: Exclude<LedgerState, 'completed'>, weight: number): void {
    this.ledger.record(this.counts, state, weight);
  }

  /** `weight` values are complete without passing anything on (a worker with no result). */
  complete(weight: number): void {
    for (let l: Ledger | undefined = this.ledger; l !== undefined; l = l.parent) l.completed += weight;
  }

  /** Values held when the segment ended: never started, or finished and not delivered. */
  abandon(weight: number, started: boolean): void {
    this.record(started ? 'undelivered' : 'neverStarted', weight);
  }
}

let current: Ledger | undefined;

/** The ledger of the segment being subscribed now, if any. */
export function currentLedger(): Ledger | undefined {
  return current;
}

/** Runs `subscribe` with `ledger` as the current one (undefined: none), and restores the previous. */
export function withLedger<R>(ledger: Ledger | undefined, subscribe: () => R): R {
  const previous = current;
  current = ledger;
  try {
    return subscribe();
  } finally {
    current = previous;
  }
}
