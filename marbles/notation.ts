import type { SubscriptionRecord, DemandRequest } from './execute.js';
import { formatValue, type ParsedMessage } from './timeline.js';

/*
 * Recorded notifications written back as run-mode marbles: the playground prints what the
 * library did, and the browser tests compare that text with the same case run in Node.
 */

/** Marbles with the values of their letters and the value of `#`. */
export interface Notation {
  readonly marbles: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly error?: unknown;
}

/** Characters the marble parser gives a meaning; a value is never written as one of them. */
const RESERVED = new Set([' ', '-', '|', '#', '(', ')', '^', '!']);
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Marbles for `messages`. A value keeps its letter from `known` (the case's own `values`) when
 * it is equal to one there, a one-character string stands for itself, anything else gets the
 * next free letter. Long gaps are written as time progressions (`20ms`). Throws when two
 * notifications are closer than marbles can write them (a group is as wide as its text).
 */
export function marblesOf(messages: readonly ParsedMessage[], known: Readonly<Record<string, unknown>> = {}): Notation {
  const letters = new Letters(known);
  let text = '';
  let position = 0;
  let error: unknown;
  for (const group of byFrame(messages)) {
    const frame = group[0]?.frame ?? 0;
    if (frame < position) {
      throw new RangeError(
        `frame ${frame}: a notification comes before the previous group ends (frame ${position}); marbles cannot write it`,
      );
    }
    text += gap(frame - position);
    const chars = group.map((m) => {
      if (m.notification.kind === 'C') return '|';
      if (m.notification.kind === 'E') {
        error = m.notification.error;
        return '#';
      }
      return letters.of(m.notification.value);
    });
    text += chars.length === 1 ? chars.join('') : `(${chars.join('')})`;
    position = frame + (chars.length === 1 ? 1 : chars.length + 2);
  }
  return { marbles: text, values: letters.used(), ...(error !== undefined && { error }) };
}

/**
 * The text the playground prints for an output: its marbles, then a `letter = value` line per
 * value that is not its own letter, and the error. When marbles cannot write the output (see
 * {@link marblesOf}), one `frame: notifications` line per frame instead, and no notation.
 */
export function outputText(
  messages: readonly ParsedMessage[],
  known: Readonly<Record<string, unknown>> = {},
): { readonly text: string; readonly notation?: Notation } {
  let notation: Notation;
  try {
    notation = marblesOf(messages, known);
  } catch {
    const lines = byFrame(messages).map(
      (group) =>
        `${group[0]?.frame ?? 0}: ${group.map((m) => (m.notification.kind === 'N' ? formatValue(m.notification.value) : m.notification.kind === 'C' ? '|' : `# ${formatValue(m.notification.error)}`)).join(', ')}`,
    );
    return { text: ['(not writable as marbles; by frame)', ...lines].join('\n') };
  }
  const legend = Object.entries(notation.values)
    .filter(([key, value]) => value !== key)
    .map(([key, value]) => `${key} = ${formatValue(value)}`);
  const error = 'error' in notation ? [`# = ${formatValue(notation.error)}`] : [];
  return { text: [notation.marbles, ...legend, ...error].join('\n'), notation };
}

function byFrame(messages: readonly ParsedMessage[]): ParsedMessage[][] {
  const groups: ParsedMessage[][] = [];
  for (const m of messages) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[0]?.frame === m.frame) last.push(m);
    else groups.push([m]);
  }
  return groups;
}

function gap(frames: number): string {
  if (frames <= 20) return '-'.repeat(frames);
  return ` ${frames}ms `;
}

class Letters {
  private readonly assigned = new Map<string, string>(); // formatted value -> letter
  private readonly values: Record<string, unknown> = {};

  constructor(private readonly known: Readonly<Record<string, unknown>>) {}

  of(value: unknown): string {
    const label = formatValue(value);
    const existing = this.assigned.get(label);
    if (existing !== undefined) return existing;
    const letter = this.choose(value, label);
    this.assigned.set(label, letter);
    this.values[letter] = value;
    return letter;
  }

  used(): Record<string, unknown> {
    return { ...this.values };
  }

  private choose(value: unknown, label: string): string {
    for (const [key, candidate] of Object.entries(this.known)) {
      if (key.length === 1 && !(key in this.values) && formatValue(candidate) === label) return key;
    }
    if (typeof value === 'string' && value.length === 1 && !RESERVED.has(value) && !(value in this.values)) {
      return value;
    }
    const free = [...LETTERS].find((ch) => !(ch in this.values) && !(ch in this.known));
    if (free === undefined) throw new RangeError('more distinct values than marble letters');
    return free;
  }
}

/** Subscription marbles of one recorded subscription, e.g. `--^--!`. */
export function subscriptionMarblesOf(log: SubscriptionRecord): string {
  const { subscribedFrame: from, unsubscribedFrame: to } = log;
  if (to === Infinity) return `${'-'.repeat(from)}^`;
  if (to === from) return `${'-'.repeat(from)}(^!)`;
  return `${'-'.repeat(from)}^${'-'.repeat(to - from - 1)}!`;
}

/** Demand marbles of recorded requests (digits, `∞`), e.g. `1--1-(11)`; sizes over 9 are refused. */
export function demandMarblesOf(demand: readonly DemandRequest[]): string {
  const messages = demand.map((r) => ({ frame: r.frame, notification: { kind: 'N' as const, value: r.n } }));
  const sizes: Record<string, number> = { '∞': Infinity };
  for (const d of '123456789') sizes[d] = Number(d);
  const notation = marblesOf(messages, sizes);
  const unwritable = Object.entries(notation.values).find(([key]) => !(key in sizes));
  if (unwritable !== undefined) throw new RangeError(`request(${formatValue(unwritable[1])}) has no demand marble`);
  return notation.marbles;
}
