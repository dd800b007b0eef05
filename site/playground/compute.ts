import { map, type Observable, type OperatorFunction } from 'rxjs';
import * as library from '../../index.js';
import type { AnyMarbleCase, MarbleStream } from '../../marbles/case.js';
import { marbleCases } from '../../marbles/cases/index.js';
import { executeCase, type CaseOutcome } from '../../marbles/execute.js';
import { demandMarblesOf, outputText, subscriptionMarblesOf, type Notation } from '../../marbles/notation.js';
import { diagramOf } from '../../marbles/spec.js';
import { composePanels } from '../../marbles/svg.js';
import { pullEvery, upper } from '../../marbles/testing.js';
import { parseRunMarbles } from '../../marbles/timeline.js';
import type { PlaygroundState } from './state.js';

/*
 * What the playground shows for a state, computed by the library itself: the case (or the
 * operator) runs under a TestScheduler through the same harness as the tests (marbles/execute.ts),
 * and the diagram is drawn by the same renderer as docs/diagrams. Nothing here touches the DOM.
 */

/** An error in one of the user's fields, shown next to that field. */
export interface FieldError {
  /** `case`, `op`, `source`, `inner.<name>`, `options`, `consumer` or `unsubscribe`. */
  readonly field: string;
  readonly message: string;
}

export interface Computed {
  /** The state with every default filled in: what the fields show. */
  readonly state: Required<Omit<PlaygroundState, 'caseId' | 'op'>> & Pick<PlaygroundState, 'caseId' | 'op'>;
  readonly errors: readonly FieldError[];
  readonly output?: string;
  /** Case mode: the output the case's test expects, written the same way. */
  readonly expected?: string;
  readonly subscriptions?: string;
  readonly demand?: string;
  readonly svg?: string;
}

/** How an operator exported from index.ts is called with the playground's job and options. */
type Shape = 'options' | 'work' | 'segment';
const SHAPES: Readonly<Record<string, Shape>> = {
  mergeWorkers: 'work',
  orderedMerge: 'work',
  drainOnComplete: 'segment',
};
/** Options a new user sees first; any other operator starts from `{}` and the library's own errors. */
const DEFAULT_OPTIONS: Readonly<Record<string, string>> = {
  boundedBuffer: '{ "capacity": 2, "overflow": "drop-oldest" }',
  batchFresh: '{ "size": 3, "maxWait": 2 }',
  mergeWorkers: '{ "concurrency": 2 }',
  orderedMerge: '{ "concurrency": 2 }',
  drainOnComplete: '{ "deadline": 20 }',
};
const DEFAULT_JOB = '---(x|)';
export const DEFAULT_HASH = '#case=boundedBuffer-block-demand';

// Vite lists the operator modules at build time: a new file in operators/ shows up by itself.
// The Node-only adapters (the rxjs-backpressure/node subpath) import node:stream, which has no
// browser build; they are not in index.ts and never in the page.
const operatorFiles = Object.keys(
  import.meta.glob(['../../operators/*.ts', '!../../operators/toNodeReadable.ts', '!../../operators/writeTo.ts']),
);

/** Operators exported from index.ts under the name of their file in operators/. */
export function operatorNames(): string[] {
  const exported = library as Record<string, unknown>;
  return operatorFiles
    .map((path) => path.replace(/^.*\//, '').replace(/\.ts$/, ''))
    .filter((name) => typeof exported[name] === 'function')
    .sort();
}

export function caseById(id: string): AnyMarbleCase | undefined {
  return marbleCases.find((c) => c.id === id);
}

/** Everything the playground shows for `state`; never throws. */
export function compute(state: PlaygroundState): Computed {
  const errors: FieldError[] = [];
  const built =
    state.caseId !== undefined || state.op === undefined ? fromCase(state, errors) : fromOperator(state, errors);
  if (built?.marbleCase === undefined || errors.length > 0) return { state: built?.state ?? filled(state), errors };
  let outcome: CaseOutcome;
  try {
    outcome = executeCase(built.marbleCase);
  } catch (err) {
    return { state: built.state, errors: [{ field: built.blame, message: messageOf(err) }] };
  }
  return { state: built.state, errors, ...present(built.marbleCase, outcome, built.expected) };
}

interface Built {
  /** Undefined when a field is wrong: there is nothing to run. */
  readonly marbleCase?: AnyMarbleCase;
  readonly state: Computed['state'];
  /** The field to blame when the run throws (the options refused by the operator, say). */
  readonly blame: string;
  readonly expected?: MarbleStream<unknown>;
}

function filled(state: PlaygroundState): Computed['state'] {
  return {
    ...state,
    options: state.options ?? '',
    source: state.source ?? '',
    kind: state.kind ?? 'cold',
    consumer: state.consumer ?? '',
    unsubscribe: state.unsubscribe ?? '',
  };
}

function fromCase(state: PlaygroundState, errors: FieldError[]): Built | undefined {
  const id = state.caseId ?? DEFAULT_HASH.slice('#case='.length);
  const c = caseById(id);
  if (c === undefined) {
    errors.push({ field: 'case', message: `no marble case '${id}' (see the list of cases below)` });
    return undefined;
  }
  const caseInner = (c.inner ?? {}) as Record<string, MarbleStream<unknown>>;
  const inner = Object.fromEntries(Object.entries(caseInner).map(([n, s]) => [n, state.inner[n] ?? s.marbles]));
  const full = {
    ...filled(state),
    caseId: id,
    op: undefined,
    source: state.source ?? c.source.marbles,
    kind: state.kind ?? c.source.kind ?? 'cold',
    inner,
    unsubscribe: state.unsubscribe ?? c.unsubscribe ?? '',
  };
  checkStreams(full, errors);
  const marbleCase: AnyMarbleCase = {
    ...c,
    source: { ...c.source, marbles: full.source, kind: full.kind },
    inner: Object.fromEntries(Object.entries(caseInner).map(([n, s]) => [n, { ...s, marbles: inner[n] ?? s.marbles }])),
    unsubscribe: full.unsubscribe === '' ? undefined : full.unsubscribe,
    verify: undefined,
  };
  return { marbleCase, state: full, blame: 'source', expected: c.expected };
}

function fromOperator(state: PlaygroundState, errors: FieldError[]): Built | undefined {
  const op = state.op ?? '';
  const fn = (library as Record<string, unknown>)[op];
  if (!operatorNames().includes(op) || typeof fn !== 'function') {
    errors.push({ field: 'op', message: `'${op}' is not an operator exported by rxjs-backpressure` });
    return undefined;
  }
  const shape = SHAPES[op] ?? 'options';
  const full = {
    ...filled(state),
    op,
    options: state.options ?? DEFAULT_OPTIONS[op] ?? '{}',
    source: state.source ?? 'abcde---|',
    kind: state.kind ?? 'cold',
    inner: (shape === 'options' ? {} : { job: state.inner.job ?? DEFAULT_JOB }) as Record<string, string>,
  };
  checkStreams(full, errors);
  const options = parseOptions(full.options, errors);
  const consumer = parseConsumer(full.consumer, errors);
  if (errors.length > 0 || options === undefined) return { state: full, blame: 'options' };
  const call = fn as (...args: unknown[]) => unknown;
  const label = `${op}(${shape === 'options' ? '' : 'job, '}${full.options.trim()})${consumer === undefined ? '' : ` → pullEvery(${consumer})`}`;
  const marbleCase: AnyMarbleCase = {
    id: 'playground',
    title: label,
    source: { marbles: full.source, kind: full.kind },
    inner: shape === 'options' ? {} : { job: { marbles: full.inner.job ?? DEFAULT_JOB } },
    operatorLabel: label,
    expected: { marbles: '' },
    unsubscribe: full.unsubscribe === '' ? undefined : full.unsubscribe,
    operator: ({ inner, scheduler }) => {
      const job = inner.job as Observable<unknown>;
      const work = (v: unknown) => job.pipe(map(() => upper(String(v))));
      const args =
        shape === 'work'
          ? [work, options]
          : shape === 'segment'
            ? [library.mergeWorkers(work, { concurrency: 2 }), options]
            : [options];
      const stage = call(...args);
      if (typeof stage !== 'function')
        throw new TypeError(`${op} is not a pipeable operator; open one of its cases instead`);
      const operator = stage as OperatorFunction<unknown, unknown>;
      return consumer === undefined
        ? operator
        : (s$: Observable<unknown>) => s$.pipe(operator, pullEvery(consumer, scheduler));
    },
  };
  return { marbleCase, state: full, blame: 'options' };
}

function parseOptions(text: string, errors: FieldError[]): unknown {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return value;
  } catch (err) {
    errors.push({ field: 'options', message: `options must be JSON: ${messageOf(err)}` });
    return undefined;
  }
}

function parseConsumer(text: string, errors: FieldError[]): number | undefined {
  if (text.trim() === '') return undefined;
  const frames = Number(text);
  if (!Number.isInteger(frames) || frames < 0) {
    errors.push({ field: 'consumer', message: `consumer: frames of work per value, an integer >= 0, got '${text}'` });
    return undefined;
  }
  return frames;
}

/** Checks every marble field before running, so a typo is reported at its field. */
function checkStreams(state: Computed['state'], errors: FieldError[]): void {
  const check = (field: string, marbles: string, subscriptionAllowed: boolean): void => {
    const message = marbleError(marbles, subscriptionAllowed);
    if (message !== undefined) errors.push({ field, message });
  };
  check('source', state.source, state.kind === 'hot');
  for (const [name, marbles] of Object.entries(state.inner)) check(`inner.${name}`, marbles, false);
  if (state.unsubscribe !== '') {
    const message = subscriptionError(state.unsubscribe);
    if (message !== undefined) errors.push({ field: 'unsubscribe', message });
  }
}

/** Why RxJS would misread `marbles`, or undefined when they are fine. */
export function marbleError(marbles: string, subscriptionAllowed: boolean): string | undefined {
  let open = -1;
  for (let i = 0; i < marbles.length; i++) {
    const ch = marbles[i];
    if (ch === '(') {
      if (open !== -1) return `'(' at ${i}: groups cannot be nested (the group opened at ${open} is still open)`;
      open = i;
    } else if (ch === ')') {
      if (open === -1) return `')' at ${i} closes no group`;
      open = -1;
    } else if (ch === '!') {
      return `'!' at ${i}: an unsubscription belongs in the unsubscribe field`;
    } else if (ch === '^' && !subscriptionAllowed) {
      return `'^' at ${i}: only a hot source has a subscription point`;
    }
  }
  if (open !== -1) return `the group opened at ${open} is not closed with ')'`;
  const end = [...marbles.matchAll(/[|#]/g)][0]?.index;
  if (end !== undefined && /[^\s-]/.test(marbles.slice(end + 1).replace(/^\)/, ''))) {
    return `nothing can follow the '${marbles[end]}' at ${end}: the stream has ended`;
  }
  try {
    parseRunMarbles(marbles);
  } catch (err) {
    return messageOf(err);
  }
  return undefined;
}

function subscriptionError(marbles: string): string | undefined {
  if (!/^[\s\-^!()0-9a-z]*$/.test(marbles) || !marbles.includes('!')) {
    return "unsubscribe: a '!' (and optionally a '^' before it) on a line of '-', e.g. '-----!'";
  }
  return undefined;
}

function present(c: AnyMarbleCase, outcome: CaseOutcome, expected?: MarbleStream<unknown>): Partial<Computed> {
  const known = expected?.values ?? {};
  const output = outputText(outcome.output, known);
  const expectedText =
    expected === undefined
      ? undefined
      : outputText(parseRunMarbles(expected.marbles, expected.values, expected.error), known).text;
  const inner = Object.entries(outcome.subscriptions.inner);
  const subscriptions = [
    `source: ${outcome.subscriptions.source.map(subscriptionMarblesOf).join('  ') || '(never subscribed)'}`,
    ...inner.map(([name, logs]) => `${name}: ${logs.map(subscriptionMarblesOf).join('  ') || '(never subscribed)'}`),
  ].join('\n');
  const demand = outcome.demand.length === 0 ? '' : demandText(outcome);
  return {
    output: output.text,
    ...(expectedText !== undefined && { expected: expectedText }),
    subscriptions,
    demand:
      demand === ''
        ? c.source.kind === 'pull'
          ? '(no request was made)'
          : '(the source is not a pull source: choose kind "pull" to see demand)'
        : demand,
    ...(output.notation !== undefined && { svg: drawing(c, outcome, output.notation, demandOf(outcome)) }),
  };
}

/** The diagram of what happened: the case's inputs, and the recorded output, subscriptions and demand. */
function drawing(c: AnyMarbleCase, outcome: CaseOutcome, output: Notation, demand: string): string {
  const recorded: AnyMarbleCase = {
    ...c,
    expected: output,
    subscriptions: {
      source: outcome.subscriptions.source.map(subscriptionMarblesOf),
      inner: Object.fromEntries(
        Object.entries(outcome.subscriptions.inner).map(([name, logs]) => [name, logs.map(subscriptionMarblesOf)]),
      ),
    },
    demand: demand === '' ? undefined : demand,
    diagram: c.diagram === false ? {} : c.diagram,
  };
  return composePanels([{ heading: c.title, diagram: diagramOf(recorded) }]);
}

/** The demand marbles, or '' when there is none or it cannot be written (see demandText). */
function demandOf(outcome: CaseOutcome): string {
  try {
    return demandMarblesOf(outcome.demand);
  } catch {
    return '';
  }
}

function demandText(outcome: CaseOutcome): string {
  try {
    return demandMarblesOf(outcome.demand);
  } catch (err) {
    const frames = outcome.demand.map((r) => `${r.frame}: request(${r.n})`).join(', ');
    return `(${messageOf(err)}) ${frames}`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
