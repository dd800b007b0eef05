import type { RedisCommander } from './client.js';
import { RedisStreamError, errorText } from './errors.js';

/** One entry handed to this consumer, as the source emits it. */
export interface RedisStreamMessage {
  /** The entry id, e.g. `1718000000000-0`. */
  readonly id: string;
  /** The entry's fields. */
  readonly fields: Readonly<Record<string, string>>;
  /** How many times the group has delivered it, this delivery included (from the pending entries list). */
  readonly deliveries: number;
  /**
   * `XACK`: resolves once Redis confirmed it. Idempotent: a second call returns the same promise.
   * Rejects with a {@link RedisStreamError} when the ack did not reach Redis; it may then be
   * called again (XACK of an acked entry is a no-op).
   */
  ack(): Promise<void>;
  /**
   * Gives this delivery up after a failure: the entry stays pending, to be claimed again
   * (`claimIdle`), or, on its last allowed delivery (`maxDeliveries`), is copied with the error to
   * the dead-letter stream and acked in one atomic step. Resolves with what happened.
   */
  reject(error: unknown): Promise<'pending' | 'dead-lettered'>;
}

/** What one subscription of {@link fromRedisStream} has been handed, and what became of it. */
export interface RedisStreamReport {
  /** True while the reader runs (from subscribe until its last read settled and its connection closed). */
  readonly active: boolean;
  /** Entries Redis handed to this subscription (read with `>` or claimed). */
  readonly delivered: number;
  /** Of those, entries taken over from other consumers with XAUTOCLAIM. */
  readonly claimed: number;
  /** Entries emitted downstream. */
  readonly emitted: number;
  /** Entries whose XACK Redis confirmed (reply 1), dead letters not included. */
  readonly acked: number;
  /** Entries acked by someone else first (XACK reply 0): a duplicate delivery, e.g. after a claim. */
  readonly ackedBefore: number;
  /** Entries given up with `reject` and left pending for redelivery. */
  readonly rejected: number;
  /** Entries copied to the dead-letter stream and acked. */
  readonly deadLettered: number;
  /** Emitted and not yet acked, rejected or dead-lettered: in work, or abandoned by it. */
  readonly inWork: readonly string[];
  /** Delivered to this consumer but never emitted (a read that came back after the stop). */
  readonly unemitted: readonly string[];
  /**
   * The ids this consumer leaves pending for others (`inWork` then `unemitted`), once the
   * pipeline has ended. `delivered = acked + ackedBefore + rejected + deadLettered + left.length`.
   */
  readonly left: readonly string[];
}

/** Where a message stands; one object per delivery, so a redelivery of the same id is told apart. */
interface Holding {
  emitted: boolean;
}

/** Where the stream's commands go, and what the dead-letter step needs. */
export interface LedgerConfig {
  readonly operator: string;
  readonly client: RedisCommander;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly maxDeliveries: number | undefined;
  readonly deadLetter: string | undefined;
}

// XADD to the dead-letter stream and XACK in one step: a crash between the two would otherwise
// leave the entry both dead-lettered and pending, and it would be dead-lettered twice.
const DEAD_LETTER_SCRIPT =
  "redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3)); return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])";

/**
 * The books of one subscription: every delivered entry is held here until it is acked,
 * rejected or dead-lettered, so that the source can say at any time which ids it leaves.
 */
export class Ledger {
  active = true;
  private readonly held = new Map<string, Holding>();
  private delivered = 0;
  private claimed = 0;
  private emitted = 0;
  private acked = 0;
  private ackedBefore = 0;
  private rejected = 0;
  private deadLettered = 0;

  constructor(private readonly config: LedgerConfig) {}

  /** Records a delivery and returns the message for it (not yet emitted). */
  deliver(id: string, fields: Record<string, string>, deliveries: number, claimed: boolean): RedisStreamMessage {
    const holding: Holding = { emitted: false };
    this.held.set(id, holding);
    this.delivered++;
    if (claimed) this.claimed++;
    return this.message(id, fields, deliveries, holding);
  }

  /** The message is about to be emitted. */
  markEmitted(message: RedisStreamMessage): void {
    const holding = this.held.get(message.id);
    if (holding !== undefined) holding.emitted = true;
    this.emitted++;
  }

  /** Dead-letters an entry that arrived past maxDeliveries without being emitted. */
  deadLetterOnArrival(message: RedisStreamMessage, deliveries: number): Promise<unknown> {
    return message.reject(
      new Error(`delivered ${deliveries} times (maxDeliveries ${this.config.maxDeliveries}) without being acked`),
    );
  }

  report(): RedisStreamReport {
    const inWork: string[] = [];
    const unemitted: string[] = [];
    for (const [id, holding] of this.held) (holding.emitted ? inWork : unemitted).push(id);
    return {
      active: this.active,
      delivered: this.delivered,
      claimed: this.claimed,
      emitted: this.emitted,
      acked: this.acked,
      ackedBefore: this.ackedBefore,
      rejected: this.rejected,
      deadLettered: this.deadLettered,
      inWork,
      unemitted,
      left: [...inWork, ...unemitted],
    };
  }

  private settle(id: string, holding: Holding): boolean {
    if (this.held.get(id) !== holding) return false;
    this.held.delete(id);
    return true;
  }

  private message(
    id: string,
    fields: Record<string, string>,
    deliveries: number,
    holding: Holding,
  ): RedisStreamMessage {
    let acking: Promise<void> | undefined;
    let rejecting: Promise<'pending' | 'dead-lettered'> | undefined;
    const ack = (): Promise<void> => {
      if (acking !== undefined) return acking;
      const attempt = this.sendAck(id, holding);
      acking = attempt;
      // A failed ack may be tried again; a confirmed one is remembered.
      attempt.catch(() => {
        if (acking === attempt) acking = undefined;
      });
      return attempt;
    };
    const reject = (error: unknown): Promise<'pending' | 'dead-lettered'> => {
      rejecting ??= this.sendReject(id, fields, deliveries, holding, error);
      return rejecting;
    };
    return { id, fields, deliveries, ack, reject };
  }

  private async sendAck(id: string, holding: Holding): Promise<void> {
    const { client, stream, group, operator } = this.config;
    let reply: unknown;
    try {
      reply = await client.sendCommand(['XACK', stream, group, id]);
    } catch (err) {
      throw new RedisStreamError(operator, 'XACK', `XACK of ${id} failed (it stays pending): ${errorText(err)}`, err);
    }
    if (this.settle(id, holding)) {
      if (Number(reply) === 1) this.acked++;
      else this.ackedBefore++;
    }
  }

  private async sendReject(
    id: string,
    fields: Record<string, string>,
    deliveries: number,
    holding: Holding,
    error: unknown,
  ): Promise<'pending' | 'dead-lettered'> {
    const { maxDeliveries } = this.config;
    if (maxDeliveries === undefined || deliveries < maxDeliveries) {
      if (this.settle(id, holding)) this.rejected++;
      return 'pending';
    }
    await this.sendDeadLetter(id, fields, deliveries, error);
    if (this.settle(id, holding)) this.deadLettered++;
    return 'dead-lettered';
  }

  private async sendDeadLetter(
    id: string,
    fields: Record<string, string>,
    deliveries: number,
    error: unknown,
  ): Promise<void> {
    const { client, stream, group, consumer, deadLetter, operator } = this.config;
    const args = ['EVAL', DEAD_LETTER_SCRIPT, '2', stream, deadLetter as string, group, id];
    for (const [field, value] of Object.entries(fields)) args.push(field, value);
    args.push(
      'dead-letter:stream',
      stream,
      'dead-letter:id',
      id,
      'dead-letter:group',
      group,
      'dead-letter:consumer',
      consumer,
      'dead-letter:deliveries',
      String(deliveries),
      'dead-letter:error',
      errorText(error),
    );
    try {
      await client.sendCommand(args);
    } catch (err) {
      throw new RedisStreamError(
        operator,
        'XADD',
        `dead-lettering ${id} to '${deadLetter}' failed (it stays pending): ${errorText(err)}`,
        err,
      );
    }
  }
}
