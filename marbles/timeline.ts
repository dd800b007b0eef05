import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { AnyMarbleCase, MarbleStream, SubscriptionMarbles } from './case.js';

/**
 * A case laid out on one time axis, independent of how it is drawn. Every frame here is an
 * absolute TestScheduler frame (0 = when the test subscribes to the output). All marbles are
 * parsed by RxJS's own parser in run mode, so the drawing reads the strings exactly as the test
 * does (groups, spaces, time progressions, `^`).
 */
export interface Timeline {
  readonly rows: readonly Row[];
  /** The operator box sits between the input rows (before this index) and the output row. */
  readonly operatorAt: number;
  /** The first and last frame any row needs. */
  readonly first: number;
  readonly last: number;
}

/** One horizontal stream in the diagram. */
export interface Row {
  readonly title: string;
  /** Where the arrow starts: the first character of the marbles (negative before a hot `^`). */
  readonly start: number;
  /** Where the marble string ends (one past its last character). */
  readonly end: number;
  readonly events: readonly Event[];
  /** When the stream was subscribed; empty when the case does not say. */
  readonly windows: readonly Window[];
  /** `demand`: the requests a stage made of its source, drawn as request marks, not values. */
  readonly lane?: 'demand';
}

/** A notification at an absolute frame. */
export interface Event {
  readonly frame: number;
  readonly kind: 'N' | 'E' | 'C';
  /** The marble character (`#` for errors, `|` for completion). */
  readonly key: string;
  /** The value (for N) or error (for E). */
  readonly value: unknown;
  /** False when it happened outside every subscription window, i.e. nobody received it. */
  readonly delivered: boolean;
}

/** A subscription, from subscribe to unsubscribe (Infinity: never unsubscribed). */
export interface Window {
  readonly from: number;
  readonly to: number;
}

/** A notification as RxJS's marble parser returns it, at a frame. */
export interface ParsedMessage {
  readonly frame: number;
  readonly notification: { readonly kind: 'N' | 'E' | 'C'; readonly value?: unknown; readonly error?: unknown };
}

/** Lays a case out in time. Pure: depends only on the case data. */
export function timelineOf(c: AnyMarbleCase): Timeline {
  const options = c.diagram === false ? {} : (c.diagram ?? {});
  const sourceTitle = options.sourceTitle ?? (c.source.kind === 'pull' ? 'pull source' : 'source');
  const inputs = [
    ...streamRows(sourceTitle, c.source, c.source.kind === 'hot', c.subscriptions?.source),
    ...(c.demand === undefined ? [] : [demandRow(options.demandTitle ?? 'demand', c.demand)]),
    ...Object.entries((c.inner ?? {}) as Record<string, MarbleStream<unknown>>).flatMap(([name, stream]) =>
      streamRows(
        name,
        stream,
        false,
        (c.subscriptions?.inner as Record<string, SubscriptionMarbles> | undefined)?.[name],
      ),
    ),
  ];
  const output = outputRow(options.outputTitle ?? 'output', c.expected, c.unsubscribe);
  const rows = [...inputs, output];
  return {
    rows,
    operatorAt: inputs.length,
    first: Math.min(0, ...rows.map((row) => row.start)),
    last: Math.max(...rows.map((row) => Math.max(row.end, ...row.windows.map((w) => (w.to === Infinity ? 0 : w.to))))),
  };
}

/**
 * The rows of an input stream. A cold stream replays from each subscription, so it gets one row
 * per declared subscription, shifted to the frame it was subscribed at: the diagram shows what
 * the operator saw, when it saw it. A hot stream is one row whatever the subscriptions.
 */
function streamRows(
  title: string,
  stream: MarbleStream<unknown>,
  hot: boolean,
  subs: SubscriptionMarbles | undefined,
): Row[] {
  const windows = subscriptionWindows(subs);
  // `subs` undefined: the case does not say, so draw everything as delivered. An empty list:
  // the case asserts the stream was never subscribed, so nothing was delivered.
  if (hot || windows.length === 0) return [row(title, stream, 0, windows, subs === undefined)];
  return windows.map((w) => row(title, stream, w.from, [w], false));
}

/** The demand lane: one mark per `request(n)`, at the frame it was made. */
function demandRow(title: string, marbles: string): Row {
  return { ...row(title, { marbles, values: demandValues(marbles) }, 0, [], true), lane: 'demand' };
}

/**
 * The values of demand marbles: a digit is that number, `∞` is Infinity. Anything else is a
 * mistake in the case, reported with the character.
 */
export function demandValues(marbles: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const ch of marbles.replace(/\d+ms|[-\s()]/g, '')) {
    if (/^\d$/.test(ch)) values[ch] = Number(ch);
    else if (ch === '∞') values[ch] = Infinity;
    else throw new Error(`demand marbles '${marbles}': '${ch}' is not a request size (a digit or ∞)`);
  }
  return values;
}

function outputRow(title: string, expected: MarbleStream<unknown>, unsubscribe: string | undefined): Row {
  // expectObservable subscribes at frame 0 unless the unsubscribe marbles have a '^'.
  const windows =
    unsubscribe === undefined
      ? []
      : subscriptionWindows(unsubscribe).map((w) => ({ from: w.from === Infinity ? 0 : w.from, to: w.to }));
  return row(title, expected, 0, windows, windows.length === 0);
}

function row(
  title: string,
  stream: MarbleStream<unknown>,
  shift: number,
  windows: readonly Window[],
  unobserved: boolean,
): Row {
  const parsed = parse(stream.marbles, stream.values, stream.error);
  const keys = parse(stream.marbles, undefined, undefined);
  const events = parsed.map((message, i): Event => {
    const frame = message.frame + shift;
    const { kind } = message.notification;
    return {
      frame,
      kind,
      key: kind === 'C' ? '|' : kind === 'E' ? '#' : String(keys[i]?.notification.value),
      value: kind === 'E' ? message.notification.error : message.notification.value,
      delivered: unobserved || windows.some((w) => w.from <= frame && frame <= w.to),
    };
  });
  return { title, start: startOf(stream.marbles) + shift, end: endOf(stream.marbles) + shift, events, windows };
}

/** The frame of the first character: negative when a `^` comes later (RxJS's own rule). */
function startOf(marbles: string): number {
  const subIndex = marbles.replace(/^[ ]+/, '').indexOf('^');
  return subIndex === -1 ? 0 : -subIndex;
}

/** One past the last frame of the string, measured by RxJS: the frame of an appended `|`. */
function endOf(marbles: string): number {
  const messages = parse(`${marbles}|`, undefined, undefined);
  return messages[messages.length - 1]?.frame ?? 0;
}

function subscriptionWindows(subs: SubscriptionMarbles | undefined): Window[] {
  if (subs === undefined) return [];
  const list = typeof subs === 'string' ? [subs] : subs;
  return list.map((marbles) => {
    const log = inRunMode(() => TestScheduler.parseMarblesAsSubscriptions(marbles, true));
    return { from: log.subscribedFrame, to: log.unsubscribedFrame };
  });
}

/** Parses marbles as a test inside `TestScheduler.run` does (one character is one frame). */
export function parseRunMarbles(marbles: string, values?: unknown, error?: unknown): ParsedMessage[] {
  return parse(marbles, values, error);
}

function parse(marbles: string, values: unknown, error: unknown): ParsedMessage[] {
  // Inner observables stay values (drawn as labels): materializing them would change the shape.
  return inRunMode(() => TestScheduler.parseMarbles(marbles, values, error, false, true) as ParsedMessage[]);
}

/**
 * Parses as `TestScheduler.run` does. The parser is static and reads the static frameTimeFactor,
 * which only `run` sets to 1; outside it, `-` would be 10 frames but `10ms` still 10.
 */
function inRunMode<T>(parseNow: () => T): T {
  const previous = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return parseNow();
  } finally {
    TestScheduler.frameTimeFactor = previous;
  }
}

/**
 * A short, deterministic text for a value or error: primitives as themselves, errors as
 * `Name: message`, arrays and plain objects in a compact literal form.
 */
export function formatValue(value: unknown, depth = 0): string {
  if (typeof value === 'string') return depth === 0 ? value : `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return value.name === '' ? 'function' : `function ${value.name}`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Observable) return 'Observable';
  if (depth >= 3) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) return `[${value.map((item: unknown) => formatValue(item, depth + 1)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${k}: ${formatValue(v, depth + 1)}`).join(', ')} }`;
}
