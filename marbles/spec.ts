import { createDiagramSpecification, createOperatorSpecification, createStreamSpecification } from '@swirly/parser';
import type { AnyMarbleCase } from './case.js';
import { formatValue, timelineOf, type Event, type Row, type Timeline } from './timeline.js';

/*
 * The subset of Swirly's diagram specification (package @swirly/types, which is not installed)
 * that this module builds. The diagram is built as data rather than as Swirly's text format: the
 * text format's stream syntax differs from run-mode marbles (time progressions, spaces, `^`), and
 * building from RxJS's own parse leaves nothing to translate.
 */

type Styles = Readonly<Record<string, string | number>>;

/** A Swirly message: a frame relative to its stream's start, and a notification. */
export interface SwirlyMessage {
  readonly frame: number;
  readonly notification: { readonly kind: 'N'; readonly value: string } | { readonly kind: 'C' | 'E' };
  readonly styles?: Styles;
}

/** A Swirly range (a band on the arrow), relative to its stream's start. */
export interface SwirlyRange {
  readonly kind: 'range';
  readonly frame: number;
  readonly duration: number;
}

export interface SwirlyStream {
  readonly kind: 'S';
  readonly title: string | null;
  readonly frame: number;
  readonly duration: number;
  readonly messages: readonly SwirlyMessage[];
  readonly decorations?: readonly SwirlyRange[];
}

export interface SwirlyOperator {
  readonly kind: 'O';
  readonly title: readonly { readonly type: 'text'; readonly value: string }[];
}

export interface SwirlySpec {
  readonly content: readonly (SwirlyStream | SwirlyOperator)[];
  readonly styles: Styles;
}

/** A Swirly spec plus the lines to print under the drawing (long values, errors). */
export interface CaseDiagram {
  readonly spec: SwirlySpec;
  readonly legend: readonly string[];
}

/** Longest value drawn inside a marble; longer ones show their letter and go to the legend. */
const INLINE_LABEL_MAX = 3;

/** Monospace text is ~0.6 em wide; widths are estimated from that (no font metrics in Node). */
export const MONO_FONT = "Menlo, Consolas, 'DejaVu Sans Mono', monospace";
export const CHAR_WIDTH = 0.6;

const OPERATOR_FONT_SIZE = 15;
const TITLE_FONT_SIZE = 14;
const GREY = '#b0b0b0';
const EVENT_RADIUS = 16;
/** Pixels per frame: a little more than a marble's diameter, so adjacent frames do not overlap. */
const FRAME_WIDTH = 36;
const TERMINAL_NUDGE = 0.5;
const DEMAND_STYLES: Styles = { fill_color: '#fff3cd', stroke_color: '#b26a00', value_color: '#8a4b00' };

/** Styles over Swirly's light theme: smaller marbles, monospace operator label, red errors. */
function diagramStyles(c: AnyMarbleCase, timeline: Timeline): Styles {
  const frameWidth = (c.diagram === false ? undefined : c.diagram?.frameWidth) ?? FRAME_WIDTH;
  // A marble at frame 0 is centred on the arrow's start, so half of it sticks out to the left.
  const titleWidth =
    Math.ceil(Math.max(...timeline.rows.map((r) => r.title.length)) * TITLE_FONT_SIZE * CHAR_WIDTH) + EVENT_RADIUS + 10;
  const labelWidth = Math.ceil(c.operatorLabel.length * OPERATOR_FONT_SIZE * CHAR_WIDTH) + 32;
  return {
    frame_width: frameWidth,
    event_radius: EVENT_RADIUS,
    event_value_font_size: 14,
    stacking_height: 36,
    completion_height: 40,
    error_size: 22,
    error_color: '#c62828',
    error_stroke_width: 3,
    canvas_padding: 16,
    stream_spacing: 14,
    stream_title_width: titleWidth,
    stream_title_font_family: MONO_FONT,
    stream_title_font_size: TITLE_FONT_SIZE,
    operator_height: 40,
    operator_spacing: 6,
    operator_title_font_family: MONO_FONT,
    operator_title_font_size: OPERATOR_FONT_SIZE,
    // The operator box spans the diagram; make sure the label fits inside it.
    minimum_width: titleWidth + labelWidth,
    // Subscription windows: a thin band along the arrow (Swirly draws ranges over the marbles).
    range_height: 6,
    range_fill_color: 'rgba(30, 110, 220, 0.45)',
  };
}

/** The Swirly specification of a case, derived from its data alone (never from running it). */
export function diagramOf(c: AnyMarbleCase): CaseDiagram {
  const timeline = timelineOf(c);
  const legend = new Legend();
  const origin = timeline.first;
  const end = timeline.last + 1; // one spare frame so the last marble is not on the arrowhead
  const streams = timeline.rows.map((row) => streamSpec(row, origin, end, legend));
  const operator = createOperatorSpecification([{ type: 'text', value: c.operatorLabel }]) as SwirlyOperator;
  const content = [...streams.slice(0, timeline.operatorAt), operator, ...streams.slice(timeline.operatorAt)];
  const spec = createDiagramSpecification(content, diagramStyles(c, timeline)) as SwirlySpec;
  return { spec, legend: legend.lines() };
}

function streamSpec(row: Row, origin: number, end: number, legend: Legend): SwirlyStream {
  const start = row.start - origin;
  // Swirly draws the first message last; putting terminals first keeps a `(c#)` error on top.
  const ordered = [...row.events.filter((e) => e.kind !== 'N'), ...row.events.filter((e) => e.kind === 'N')];
  const messages = ordered.map((event) => messageSpec(event, row, legend));
  const base = createStreamSpecification(messages, row.title, start) as SwirlyStream;
  return {
    ...base,
    // Every arrow runs to the same end, so rows line up whatever their own length.
    duration: end - origin - start,
    decorations: row.windows.map((w) => ({
      kind: 'range' as const,
      frame: w.from - row.start,
      duration: (w.to === Infinity ? end : w.to) - w.from,
    })),
  };
}

function messageSpec(event: Event, row: Row, legend: Legend): SwirlyMessage {
  const frame = event.frame - row.start;
  if (row.lane === 'demand') {
    // A request is not a value: amber, labelled with n itself (∞ for Infinity), never in the legend.
    return { frame, notification: { kind: 'N', value: event.key }, styles: DEMAND_STYLES };
  }
  if (event.kind === 'N') {
    const label = formatValue(event.value);
    const inline = label.length <= INLINE_LABEL_MAX ? label : event.key;
    if (inline !== label) legend.add(row.title, event.key, label);
    const styles: Styles | undefined = event.delivered
      ? undefined
      : { fill_color: '#f2f2f2', stroke_color: GREY, value_color: GREY };
    return { frame, notification: { kind: 'N', value: inline }, ...(styles && { styles }) };
  }
  if (event.kind === 'E') legend.add(row.title, '#', formatValue(event.value));
  // In `(c|)` the value comes first within the frame; drawn at the same x, the marble would hide
  // the terminal. Half a frame later still reads as "this frame" (the next frame is a whole one away).
  const afterValue = row.events.some((e) => e.kind === 'N' && e.frame === event.frame);
  const terminalFrame = afterValue ? frame + TERMINAL_NUDGE : frame;
  const styles: Styles | undefined = event.delivered
    ? undefined
    : event.kind === 'E'
      ? { color: GREY }
      : { stroke_color: GREY };
  return { frame: terminalFrame, notification: { kind: event.kind }, ...(styles && { styles }) };
}

/**
 * The legend under the drawing. A letter means the same thing on every row in most cases, so
 * entries are written once as `a = ...`; a letter with different meanings on different rows is
 * written per row (`source: a = ...`).
 */
class Legend {
  private readonly entries: { row: string; key: string; label: string }[] = [];

  add(row: string, key: string, label: string): void {
    if (!this.entries.some((e) => e.row === row && e.key === key && e.label === label)) {
      this.entries.push({ row, key, label });
    }
  }

  lines(): string[] {
    const out: string[] = [];
    for (const e of this.entries) {
      const ambiguous = this.entries.some((other) => other.key === e.key && other.label !== e.label);
      const line = ambiguous ? `${e.row}: ${e.key} = ${e.label}` : `${e.key} = ${e.label}`;
      if (!out.includes(line)) out.push(line);
    }
    return out;
  }
}
