import { caseGroups } from '../../marbles/cases/index.js';
import { caseById, compute, DEFAULT_HASH, operatorNames, type Computed } from './compute.js';
import { formatHash, parseHash, type PlaygroundState } from './state.js';

/*
 * The playground's page: plain DOM, no framework. The fields write the URL hash; the hash is the
 * only state, so reloading or sharing the link shows the same diagram. Every element a test
 * reads has a data-testid.
 */

interface Fields {
  readonly preset: HTMLSelectElement;
  readonly source: HTMLInputElement;
  readonly kind: HTMLSelectElement;
  readonly innerBox: HTMLElement;
  readonly options: HTMLTextAreaElement;
  readonly consumer: HTMLInputElement;
  readonly unsubscribe: HTMLInputElement;
  readonly output: HTMLElement;
  readonly expected: HTMLElement;
  readonly subscriptions: HTMLElement;
  readonly demand: HTMLElement;
  readonly diagram: HTMLElement;
  readonly share: HTMLAnchorElement;
}

/** Builds the playground inside `root`, follows the URL hash, and returns its teardown. */
export function mountPlayground(root: HTMLElement): () => void {
  const fields = build(root);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fromHash = (): void => show(fields, compute(parseHash(location.hash || DEFAULT_HASH)));
  const fromFields = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const state = readFields(fields);
      history.replaceState(null, '', formatHash(state));
      show(fields, compute(state));
    }, 120);
  };
  const onPreset = (): void => {
    const [mode, name] = fields.preset.value.split(':');
    location.hash = formatHash(mode === 'op' ? { op: name, inner: {} } : { caseId: name, inner: {} });
  };
  root.addEventListener('input', (event) => {
    if (event.target !== fields.preset) fromFields();
  });
  fields.preset.addEventListener('change', onPreset);
  window.addEventListener('hashchange', fromHash);
  fromHash();
  return () => {
    clearTimeout(timer);
    window.removeEventListener('hashchange', fromHash);
  };
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A labelled field; its error, when it has one, is shown right under it. */
function field(label: string, name: string, control: HTMLElement): HTMLElement {
  const wrapper = element('div', { class: 'pg-field', 'data-field': name });
  const caption = element('label', {}, label);
  control.setAttribute('data-testid', name.replace('.', '-'));
  control.setAttribute('aria-label', label);
  caption.append(control);
  wrapper.append(caption);
  return wrapper;
}

function presetSelect(): HTMLSelectElement {
  const select = element('select');
  const ops = element('optgroup', { label: 'Operators (edit the options)' });
  for (const name of operatorNames()) ops.append(element('option', { value: `op:${name}` }, name));
  select.append(ops);
  for (const group of caseGroups) {
    const optgroup = element('optgroup', { label: `Cases: ${group.name}` });
    for (const c of group.cases) optgroup.append(element('option', { value: `case:${c.id}` }, c.id));
    select.append(optgroup);
  }
  return select;
}

function caseList(): HTMLElement {
  const details = element('details', { 'data-testid': 'case-list' });
  details.append(element('summary', {}, 'Every marble case (one click opens it here)'));
  for (const group of caseGroups) {
    const list = element('ul');
    for (const c of group.cases) {
      const item = element('li');
      const link = element('a', { href: formatHash({ caseId: c.id, inner: {} }) }, c.id);
      item.append(link, document.createTextNode(` ${c.title}`));
      list.append(item);
    }
    details.append(element('h4', {}, group.name), list);
  }
  return details;
}

function build(root: HTMLElement): Fields {
  root.replaceChildren();
  const kind = element('select');
  for (const k of ['cold', 'hot', 'pull']) kind.append(element('option', { value: k }, k));
  const f: Fields = {
    preset: presetSelect(),
    source: element('input', { type: 'text', spellcheck: 'false' }),
    kind,
    innerBox: element('div', { class: 'pg-inner' }),
    options: element('textarea', { rows: '2', spellcheck: 'false' }),
    consumer: element('input', { type: 'text', placeholder: 'e.g. 5 (empty: none)' }),
    unsubscribe: element('input', { type: 'text', spellcheck: 'false', placeholder: 'e.g. -----! (empty: never)' }),
    output: element('pre', { 'data-testid': 'output-marbles' }),
    expected: element('pre', { 'data-testid': 'expected-marbles' }),
    subscriptions: element('pre', { 'data-testid': 'subscriptions' }),
    demand: element('pre', { 'data-testid': 'demand' }),
    diagram: element('div', { 'data-testid': 'diagram', class: 'pg-diagram' }),
    share: element('a', { 'data-testid': 'share-link' }, 'link to this diagram'),
  };
  const inputs = element('div', { class: 'pg-inputs' });
  inputs.append(
    field('Start from', 'preset', f.preset),
    field('Source marbles', 'source', f.source),
    field('Source kind', 'kind', f.kind),
    f.innerBox,
    field('Options (JSON)', 'options', f.options),
    field('Slow consumer: frames per value', 'consumer', f.consumer),
    field('Unsubscribe', 'unsubscribe', f.unsubscribe),
  );
  const results = element('div', { class: 'pg-results' });
  results.append(
    element('h3', {}, 'Output marbles'),
    f.output,
    element('h4', { class: 'pg-expected' }, 'What the case’s test expects'),
    f.expected,
    element('h4', {}, 'Subscriptions'),
    f.subscriptions,
    element('h4', {}, 'Demand: request(n) made of the source'),
    f.demand,
    f.diagram,
    f.share,
  );
  root.append(inputs, results, caseList());
  return f;
}

function readFields(f: Fields): PlaygroundState {
  const [mode, name] = f.preset.value.split(':');
  const inner: Record<string, string> = {};
  for (const input of Array.from(f.innerBox.querySelectorAll<HTMLInputElement>('input[data-inner]'))) {
    inner[input.dataset.inner ?? ''] = input.value;
  }
  const common = {
    source: f.source.value,
    kind: f.kind.value as PlaygroundState['kind'],
    inner,
    unsubscribe: f.unsubscribe.value,
  };
  return mode === 'op'
    ? { ...common, op: name, options: f.options.value, consumer: f.consumer.value }
    : { ...common, caseId: name };
}

/** Puts a computed state on the page: fields, errors next to their fields, results and diagram. */
function show(f: Fields, computed: Computed): void {
  const { state } = computed;
  const opMode = state.op !== undefined;
  f.preset.value = opMode ? `op:${state.op}` : `case:${state.caseId ?? ''}`;
  setValue(f.source, state.source);
  f.kind.value = state.kind;
  setValue(f.options, state.options);
  setValue(f.consumer, state.consumer);
  setValue(f.unsubscribe, state.unsubscribe);
  showInner(f, state.inner);
  for (const name of ['options', 'consumer']) {
    const wrapper = f.options.closest('.pg-inputs')?.querySelector<HTMLElement>(`[data-field="${name}"]`);
    if (wrapper) wrapper.hidden = !opMode;
  }
  showErrors(f, computed);
  showResults(f, computed, opMode);
}

function setValue(control: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  // Rewriting the field being typed in would move the caret.
  if (control.value !== value && document.activeElement !== control) control.value = value;
}

function showInner(f: Fields, inner: Readonly<Record<string, string>>): void {
  const names = Object.keys(inner);
  const current = Array.from(f.innerBox.querySelectorAll<HTMLInputElement>('input[data-inner]')).map(
    (i) => i.dataset.inner,
  );
  if (current.join(',') !== names.join(',')) {
    f.innerBox.replaceChildren(
      ...names.map((name) => {
        const input = element('input', { type: 'text', spellcheck: 'false', 'data-inner': name });
        return field(`Inner marbles: ${name}`, `inner.${name}`, input);
      }),
    );
  }
  for (const input of Array.from(f.innerBox.querySelectorAll<HTMLInputElement>('input[data-inner]'))) {
    setValue(input, inner[input.dataset.inner ?? ''] ?? '');
  }
}

function showErrors(f: Fields, computed: Computed): void {
  const root = f.output.closest('.playground') ?? document;
  for (const old of Array.from(root.querySelectorAll('[data-testid="playground-error"]'))) old.remove();
  for (const error of computed.errors) {
    const wrapper =
      root.querySelector(`[data-field="${CSS.escape(error.field)}"]`) ?? root.querySelector('[data-field="preset"]');
    wrapper?.append(
      element('div', { class: 'pg-error', role: 'alert', 'data-testid': 'playground-error' }, error.message),
    );
  }
}

function showResults(f: Fields, computed: Computed, opMode: boolean): void {
  const failed = computed.errors.length > 0;
  f.output.textContent = failed ? '(fix the field marked in red)' : (computed.output ?? '');
  f.output.dataset.state = formatHash(computed.state);
  f.output.dataset.ready = failed ? 'error' : 'ok';
  // Lets a test wait for the computation of the case (or operator) it opened.
  f.output.dataset.case = computed.state.caseId ?? computed.state.op ?? '';
  const c = computed.state.caseId === undefined ? undefined : caseById(computed.state.caseId);
  f.expected.textContent = computed.expected ?? '';
  f.expected.hidden = opMode || c === undefined;
  f.expected.previousElementSibling?.toggleAttribute('hidden', f.expected.hidden);
  f.expected.dataset.matches = String(computed.expected === computed.output);
  f.subscriptions.textContent = computed.subscriptions ?? '';
  f.demand.textContent = computed.demand ?? '';
  // The SVG is the renderer's own output (values are XML-escaped there), never user HTML.
  f.diagram.innerHTML = computed.svg ?? '';
  f.share.href = formatHash(computed.state);
}
