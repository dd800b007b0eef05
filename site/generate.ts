import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application } from 'typedoc';
import * as library from '../index.js';
import { caseGroups } from '../marbles/cases/index.js';
import type { AnyMarbleCase } from '../marbles/case.js';
import { REPOSITORY, SITE_URL } from './meta.js';

/*
 * Builds the site's pages into site/pages (generated, never committed) from what the repository
 * already holds, so nothing on the site can drift from the code:
 * - docs/**, README.md (as the getting-started page) and site/src/* copied, links rewritten;
 * - api/: the TypeDoc reference of index.ts, generated from the JSDoc;
 * - operators/<name>.md: one page per operator exported from index.ts (a function named like its
 *   file in operators/), with its reference, its diagrams and its rows of the failure-mode catalog.
 * Run by `npm run docs:build` / `docs:dev` before VitePress.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = resolve(ROOT, 'site/pages');
const BLOB = `${REPOSITORY}/blob/main/`;
const TREE = `${REPOSITORY}/tree/main/`;
const RAW = `${REPOSITORY.replace('https://github.com/', 'https://raw.githubusercontent.com/')}/main/`;

/** Where a repository file lands on the site (a page or an asset), or undefined when it does not. */
function sitePathOf(repoPath: string): string | undefined {
  if (repoPath === 'README.md') return 'index.md';
  if (repoPath.startsWith('docs/')) {
    const rest = repoPath.slice('docs/'.length);
    return existsSync(resolve(ROOT, repoPath)) && statSync(resolve(ROOT, repoPath)).isFile() ? rest : undefined;
  }
  return undefined;
}

/**
 * Rewrites the links of a Markdown file written at `fromRepo` (e.g. docs/design.md) for the page
 * at `toSite` (e.g. design.md): a link to a file the site has (relative, or an absolute link to
 * the site, the repository or its raw files, as the README needs for the registry page) becomes
 * a relative link to it; any other repository path becomes a link to the file on GitHub, so no
 * page has a dead link and the built site never reaches out to the network for its own files.
 */
export function rewriteLinks(markdown: string, fromRepo: string, toSite: string): string {
  return markdown.replace(/(\]\()([^)\s]+)(\))/g, (whole, open: string, target: string, close: string) => {
    const [path = '', anchor] = target.split('#');
    const hash = anchor === undefined ? '' : `#${anchor}`;
    const onSite = siteTargetOf(path, fromRepo);
    if (onSite === undefined) return whole;
    if ('sitePath' in onSite) {
      const rel = posix.relative(posix.dirname(toSite), onSite.sitePath) || posix.basename(onSite.sitePath);
      return `${open}${rel.startsWith('.') ? rel : `./${rel}`}${hash}${close}`;
    }
    const absolute = resolve(ROOT, onSite.repoPath);
    const isDir = existsSync(absolute) && statSync(absolute).isDirectory();
    return `${open}${isDir ? TREE : BLOB}${onSite.repoPath}${hash}${close}`;
  });
}

/** Where a link target is on the site, or its repository path when not there; undefined: leave it (external, anchor). */
function siteTargetOf(path: string, fromRepo: string): { sitePath: string } | { repoPath: string } | undefined {
  if (path === '') return undefined;
  if (path.startsWith(SITE_URL)) {
    const page = path.slice(SITE_URL.length).replace(/\.html$/, '');
    return { sitePath: page === '' ? 'index.md' : `${page}.md` };
  }
  const repoPrefix = [RAW, BLOB, TREE].find((prefix) => path.startsWith(prefix));
  if (repoPrefix === undefined && /^([a-z]+:|\/)/i.test(path)) return undefined;
  const repoPath =
    repoPrefix === undefined
      ? posix.normalize(posix.join(posix.dirname(fromRepo), path))
      : path.slice(repoPrefix.length);
  const onSite = sitePathOf(repoPath);
  if (onSite !== undefined) return { sitePath: onSite };
  return repoPrefix === undefined ? { repoPath } : undefined;
}

function write(sitePath: string, content: string): void {
  const file = resolve(PAGES, sitePath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function copyMarkdown(repoPath: string, sitePath: string, transform: (md: string) => string = (md) => md): void {
  write(sitePath, transform(rewriteLinks(readFileSync(resolve(ROOT, repoPath), 'utf8'), repoPath, sitePath)));
}

/** Every Markdown file under docs/, as repository paths. */
function docsMarkdown(dir = 'docs'): string[] {
  return readdirSync(resolve(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return docsMarkdown(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** The operators: functions exported from index.ts whose name is a file in operators/. */
export function operatorNames(): string[] {
  const exported = library as Record<string, unknown>;
  return readdirSync(resolve(ROOT, 'operators'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .filter((name) => typeof exported[name] === 'function')
    .sort();
}

/** The cases of an operator: every case whose id starts with its name and a dash. */
function casesOf(name: string): AnyMarbleCase[] {
  return caseGroups.flatMap((g) => g.cases).filter((c) => c.id.startsWith(`${name}-`) && c.diagram !== false);
}

/** The catalog rows whose "prevented by" text names the operator, with their family's table header. */
function failureRows(name: string): string[] {
  const lines = readFileSync(resolve(ROOT, 'docs/failure-modes.md'), 'utf8').split('\n');
  const out: string[] = [];
  let header: string[] = [];
  const mentions = new RegExp(`\\b${name}\\b`);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('| ID') && (lines[i + 1] ?? '').startsWith('| --')) {
      header = [line, lines[i + 1] ?? ''];
      i++;
    } else if (/^\| [A-Z]{2}-\d+/.test(line) && mentions.test(line)) {
      if (out.length === 0) out.push(...header);
      out.push(line);
    }
  }
  return out;
}

/**
 * The operator's TypeDoc page (its JSDoc), without the breadcrumb and title, and its links
 * re-pointed from api/functions/ to operators/; its sections (Example, Parameters, ...) stay h2,
 * beside Diagrams and Failure modes.
 */
function apiSection(name: string): string {
  const from = `api/functions/${name}.md`;
  const md = readFileSync(resolve(PAGES, from), 'utf8');
  const body = md
    .split('\n')
    .filter((line, i) => !(i < 4 && (line.startsWith('[rxjs-backpressure]') || line.startsWith('# '))))
    .join('\n');
  return body.replace(/(\]\()([^)\s]+)(\))/g, (whole, open: string, target: string, close: string) => {
    if (/^([a-z]+:|#|\/)/i.test(target)) return whole;
    const onSite = posix.normalize(posix.join(posix.dirname(from), target));
    return `${open}${posix.relative('operators', onSite)}${close}`;
  });
}

/** A case title without its `operator:` prefix, as a heading: `boundedBuffer: a full queue ...` -> `A full queue ...`. */
function headingOf(title: string): string {
  const rest = title.replace(/^[^:]+:\s*/, '');
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

function operatorPage(name: string): string {
  const cases = casesOf(name);
  const diagrams = cases.map((c) =>
    [
      `### ${headingOf(c.title)}`,
      '',
      `![${c.id}](../diagrams/${c.id}.svg)`,
      '',
      ...(c.description === undefined ? [] : [c.description, '']),
      `[Open \`${c.id}\` in the playground](../playground.md#case=${encodeURIComponent(c.id)})`,
      '',
    ].join('\n'),
  );
  const rows = rewriteLinks(failureRows(name).join('\n'), 'docs/failure-modes.md', `operators/${name}.md`);
  return [
    `# ${name}`,
    '',
    '<!-- Generated by site/generate.ts from the JSDoc, marbles/cases and docs/failure-modes.md. -->',
    '',
    apiSection(name),
    '',
    '## Diagrams',
    '',
    cases.length === 0 ? '_No marble case yet._' : diagrams.join('\n'),
    '## Failure modes',
    '',
    rows === ''
      ? '_No row of the failure-mode catalog names this operator._'
      : `The rows of the [failure-mode catalog](../failure-modes.md) that name \`${name}\`:\n\n${rows}`,
    '',
  ].join('\n');
}

async function generateApi(): Promise<void> {
  const app = await Application.bootstrapWithPlugins({
    entryPoints: [resolve(ROOT, 'index.ts')],
    tsconfig: resolve(ROOT, 'tsconfig.json'),
    plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
    out: resolve(PAGES, 'api'),
    docsRoot: PAGES,
    readme: 'none',
    excludePrivate: true,
    excludeInternal: true,
    hideGenerator: true,
    disableSources: true,
    logLevel: 'Warn',
    treatWarningsAsErrors: false,
  } as Parameters<typeof Application.bootstrapWithPlugins>[0]);
  const project = await app.convert();
  if (project === undefined) throw new Error('typedoc: the conversion failed (see the errors above)');
  await app.generateOutputs(project);
}

/** The getting-started page: the README, with its links pointed at the site. */
function gettingStarted(md: string): string {
  return ['---', 'title: Getting started', '---', '', md].join('\n');
}

export async function generate(): Promise<void> {
  rmSync(PAGES, { recursive: true, force: true });
  mkdirSync(PAGES, { recursive: true });
  for (const dir of ['diagrams', 'performance']) {
    cpSync(resolve(ROOT, 'docs', dir), resolve(PAGES, dir), { recursive: true, filter: (f) => !f.endsWith('.json') });
  }
  for (const repoPath of docsMarkdown()) copyMarkdown(repoPath, repoPath.slice('docs/'.length));
  copyMarkdown('README.md', 'index.md', gettingStarted);
  const src = resolve(ROOT, 'site/src');
  // The site's own pages are written with site links already.
  for (const file of readdirSync(src)) write(file, readFileSync(resolve(src, file), 'utf8'));
  cpSync(resolve(ROOT, 'site/public'), resolve(PAGES, 'public'), { recursive: true });
  await generateApi();
  const operators = operatorNames();
  for (const name of operators) write(`operators/${name}.md`, operatorPage(name));
  write('operators.json', `${JSON.stringify(operators)}\n`);
  console.log(`site/pages: ${operators.length} operator pages, API reference, ${docsMarkdown().length} docs pages`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await generate();
}
