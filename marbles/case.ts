import type { Observable, OperatorFunction } from 'rxjs';
import type { RunHelpers, TestScheduler } from 'rxjs/testing';

/**
 * A marble case is data: the same object is run by vitest (marbles/run.ts) and drawn as an SVG
 * (marbles/render.ts), so a documentation diagram cannot disagree with what the code does.
 *
 * All marbles use `TestScheduler.run` syntax: one character is one frame, spaces are ignored,
 * `10ms` is a time progression, `(ab)` is a synchronous group.
 */

/** A stream written as marbles. */
export interface MarbleStream<V> {
  /** The marble diagram, e.g. `'-a-b-|'`. */
  readonly marbles: string;
  /** Values for the letters; without it a letter stands for itself (a string). */
  readonly values?: Readonly<Record<string, V>>;
  /** The value of `#`; RxJS uses the string `'error'` when absent. */
  readonly error?: unknown;
}

/**
 * The case's source: cold (the default), hot (may use `^` for the subscription point), or pull.
 *
 * A pull source is demand-aware (it speaks the library's handshake): its marbles say when each
 * value becomes *available*, counted from the subscription like a cold stream, but a value is
 * emitted only against a `request(n)` of the stage reading it, in order; the terminal (`|`, `#`)
 * follows the values before it. Every request it receives is recorded and checked against
 * {@link MarbleCase.demand}; the diagram draws them on the demand lane.
 */
export interface SourceStream<V> extends MarbleStream<V> {
  readonly kind?: 'cold' | 'hot' | 'pull';
}

/** The expected subscription marbles (`^` / `!`), one string per expected subscription. */
export type SubscriptionMarbles = string | readonly string[];

/**
 * What a case's callbacks receive. One object is made per run, so state created by
 * {@link MarbleCase.context} (a monitor, a counter, a spy) is never shared between runs.
 */
export interface CaseHelpers<Ctx, Inner> {
  /** The scheduler of this run; pass it to operators that take a scheduler (e.g. `pullEvery`). */
  readonly scheduler: TestScheduler;
  /** The case's `inner` streams as cold observables, by name. */
  readonly inner: { readonly [K in keyof Inner]: Observable<Inner[K]> };
  /** Extra marble streams when the data form is not enough. */
  readonly cold: RunHelpers['cold'];
  readonly hot: RunHelpers['hot'];
  /** Frames in a marble string, e.g. `time('---|')` is 3. */
  readonly time: RunHelpers['time'];
  /** What {@link MarbleCase.context} returned for this run (undefined without it). */
  readonly context: Ctx;
  /**
   * Wraps a demand-aware Observable so that every `request(n)` made of it is recorded on the
   * case's demand lane (as a pull source's are), e.g. to show the requests a consumer makes of
   * `fromPull`. Throws a TypeError for a plain Observable, which has no requests to record.
   */
  readonly observeDemand: <T>(source: Observable<T>) => Observable<T>;
}

/** {@link CaseHelpers} for `verify`, which also gets vitest's `expect` (case files never import vitest). */
export interface VerifyHelpers<Ctx, Inner> extends CaseHelpers<Ctx, Inner> {
  readonly expect: (actual: unknown) => {
    toEqual(expected: unknown): void;
    toMatchObject(expected: object): void;
    toBe(expected: unknown): void;
  };
}

/** How a case is drawn; everything is optional. */
export interface DiagramOptions {
  /** Pixels per frame (default 36); raise it when labels crowd, lower it for long cases. */
  readonly frameWidth?: number;
  /** Row titles (defaults: `source`, the inner names, `output`). */
  readonly sourceTitle?: string;
  readonly outputTitle?: string;
  /** Title of the demand lane (default `demand`). */
  readonly demandTitle?: string;
}

interface CaseBase<In, Out, Ctx, Inner> {
  /**
   * Unique, used as the SVG file name (`docs/diagrams/<id>.svg`): dash-separated words of letters
   * and digits, e.g. `boundedBuffer-drop-oldest` or `bp-04-naive`. Unique ignoring case.
   */
  readonly id: string;
  /** The vitest test title, used verbatim (e.g. `[BP-04] mergeMap without a limit ...`). */
  readonly title: string;
  /** What the case shows, for people reading the case file. */
  readonly description?: string;
  readonly source: SourceStream<In>;
  /** Named cold streams for workers or inner observables, given to the callbacks as `inner`. */
  readonly inner?: { readonly [K in keyof Inner]: MarbleStream<Inner[K]> };
  /** The text in the diagram's operator box, e.g. `boundedBuffer({ capacity: 2, overflow: 'drop-oldest' })`. */
  readonly operatorLabel: string;
  /** The output the test asserts and the diagram draws. */
  readonly expected: MarbleStream<Out>;
  /** Expected subscription marbles of the source and, by name, of inner streams. */
  readonly subscriptions?: {
    readonly source?: SubscriptionMarbles;
    // NoInfer: the names come from `inner`; a typo here must be an error, not a new inner name.
    readonly inner?: NoInfer<{ readonly [K in keyof Inner]?: SubscriptionMarbles }>;
  };
  /**
   * The requests the stage made of a pull source (or of what `observeDemand` wrapped), as
   * marbles: each character is one `request(n)` at its frame, a digit for n and `∞` for
   * Infinity, e.g. `'1--1-(11)'`. The test checks the recorded requests against it; the
   * diagram draws it as the demand lane. Requires a pull source or `observeDemand`.
   */
  readonly demand?: string;
  /** When the test unsubscribes from the output (a `!` marble string, passed to `expectObservable`). */
  readonly unsubscribe?: string;
  /** Creates this run's shared state; called once per run, before `operator`/`pipeline`. */
  context?(helpers: CaseHelpers<undefined, Inner>): Ctx;
  /** Extra assertions after the scheduler has flushed (e.g. monitor counters held in `context`). */
  verify?(helpers: VerifyHelpers<Ctx, Inner>): void;
  /** How the diagram is drawn, or `false` for a test-only case that gets no SVG. */
  readonly diagram?: DiagramOptions | false;
}

/** A case whose stage under test is an operator applied to the source. */
export interface OperatorCase<In, Out, Ctx, Inner> extends CaseBase<In, Out, Ctx, Inner> {
  operator(helpers: CaseHelpers<Ctx, Inner>): OperatorFunction<In, Out>;
  readonly pipeline?: undefined;
}

/** A case that needs the whole pipeline, e.g. a naive RxJS pipeline in the failure-mode catalog. */
export interface PipelineCase<In, Out, Ctx, Inner> extends CaseBase<In, Out, Ctx, Inner> {
  pipeline(source$: Observable<In>, helpers: CaseHelpers<Ctx, Inner>): Observable<Out>;
  readonly operator?: undefined;
}

/**
 * One marble case. `In`/`Out` are the source and output value types, `Ctx` the per-run state
 * made by `context`, `Inner` maps each inner stream's name to its value type.
 */
export type MarbleCase<In = unknown, Out = unknown, Ctx = undefined, Inner = Record<never, never>> =
  OperatorCase<In, Out, Ctx, Inner> | PipelineCase<In, Out, Ctx, Inner>;

/**
 * A case with its types erased, as held by registries. `any` is needed because the callbacks take
 * the case's own types as parameters, which `unknown` would not accept.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMarbleCase = MarbleCase<any, any, any, any>;

/** A named list of cases, one per operator or catalog section. */
export interface CaseGroup {
  readonly name: string;
  readonly cases: readonly AnyMarbleCase[];
}

/** Identity function that infers a case's types, so its callbacks are checked against them. */
export function defineCase<In = string, Out = string, Ctx = undefined, Inner = Record<never, never>>(
  c: MarbleCase<In, Out, Ctx, Inner>,
): MarbleCase<In, Out, Ctx, Inner> {
  return c;
}

/**
 * Declares the cases of one case file. Fails at import time on a malformed id or a duplicate
 * id or title, so a mistake shows up before any test or diagram runs.
 */
export function defineCases(name: string, cases: readonly AnyMarbleCase[]): CaseGroup {
  assertUnique([{ name, cases }]);
  return { name, cases };
}

const ID_PATTERN = /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;

/** Every case of the given groups, after checking ids and titles are unique across all of them. */
export function allCases(groups: readonly CaseGroup[]): AnyMarbleCase[] {
  assertUnique(groups);
  return groups.flatMap((group) => group.cases);
}

function assertUnique(groups: readonly CaseGroup[]): void {
  // Ids are compared ignoring case: they become file names, and macOS and Windows file systems
  // would silently merge `BP-04.svg` and `bp-04.svg`.
  const ids = new Map<string, string>();
  const titles = new Map<string, string>();
  for (const group of groups) {
    for (const c of group.cases) {
      if (!ID_PATTERN.test(c.id)) {
        throw new Error(`marble case '${c.id}' (${group.name}): the id must be dash-separated letters and digits`);
      }
      claim(ids, c.id.toLowerCase(), `${group.name}/${c.id}`, 'id');
      claim(titles, c.title, `${group.name}/${c.id}`, 'title');
    }
  }
}

function claim(seen: Map<string, string>, key: string, owner: string, what: string): void {
  const previous = seen.get(key);
  if (previous !== undefined) throw new Error(`marble cases ${previous} and ${owner} have the same ${what}: ${key}`);
  seen.set(key, owner);
}
