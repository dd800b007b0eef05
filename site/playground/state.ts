/**
 * The playground's state, kept in the URL hash so that a diagram can be shared as a link.
 *
 * `#case=<id>&source=<marbles>&inner.<name>=<marbles>&kind=...&unsubscribe=<marbles>` starts from a
 * case of marbles/cases; `#op=<operator>&options=<JSON>&source=...&inner.job=...&consumer=<frames>`
 * runs an operator exported from index.ts. Every key is optional except `case` or `op`; a missing
 * one takes the case's (or the operator's) default. The hash is `URLSearchParams` text, so values
 * are percent-encoded.
 */
export interface PlaygroundState {
  /** A case id from marbles/cases, or undefined in operator mode. */
  readonly caseId?: string;
  /** An operator exported from index.ts, in operator mode. */
  readonly op?: string;
  /** The operator's options as JSON text (operator mode). */
  readonly options?: string;
  /** The source marbles, and what kind of stream it is. */
  readonly source?: string;
  readonly kind?: 'cold' | 'hot' | 'pull';
  /** Inner (job) marbles by name. */
  readonly inner: Readonly<Record<string, string>>;
  /** Frames of work per value of a slow, demand-aware consumer after the operator (operator mode). */
  readonly consumer?: string;
  /** When the output is unsubscribed (`!` marbles). */
  readonly unsubscribe?: string;
}

const KINDS = ['cold', 'hot', 'pull'] as const;

function kindOf(value: string | null): PlaygroundState['kind'] {
  return KINDS.find((k) => k === value);
}

/** Reads a hash (`#case=...` or `case=...`); unknown keys are ignored. */
export function parseHash(hash: string): PlaygroundState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const inner: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key.startsWith('inner.')) inner[key.slice('inner.'.length)] = value;
  }
  const get = (key: string): string | undefined => params.get(key) ?? undefined;
  return {
    caseId: get('case'),
    op: get('op'),
    options: get('options'),
    source: get('source'),
    kind: kindOf(params.get('kind')),
    inner,
    consumer: get('consumer'),
    unsubscribe: get('unsubscribe'),
  };
}

/** Writes the state as a hash, keys in a fixed order so equal states give equal links. */
export function formatHash(state: PlaygroundState): string {
  const params = new URLSearchParams();
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') params.set(key, value);
  };
  set('case', state.caseId);
  set('op', state.op);
  set('options', state.options);
  set('source', state.source);
  set('kind', state.kind);
  for (const name of Object.keys(state.inner).sort()) set(`inner.${name}`, state.inner[name]);
  set('consumer', state.consumer);
  set('unsubscribe', state.unsubscribe);
  return `#${params.toString()}`;
}
