import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marbleCases } from '../../marbles/cases/index.js';
import { executeCase } from '../../marbles/execute.js';
import { outputText } from '../../marbles/notation.js';
import { BASE } from '../../site/meta.js';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';
import { serveStatic, type StaticServer } from './server.js';

/*
 * The documentation site in a real browser: built as `npm run docs:build` builds it, served on a
 * loopback port as GitHub Pages would serve it, and read by Chromium.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = resolve(ROOT, 'site/.vitepress/dist');
const run = promisify(execFile);

if (chromiumMissing !== undefined) console.warn(chromiumMissing);

async function buildSite(): Promise<void> {
  const node = process.execPath;
  await run(node, [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'site/generate.ts'], { cwd: ROOT });
  await run(node, [resolve(ROOT, 'node_modules/vitepress/bin/vitepress.js'), 'build', 'site'], { cwd: ROOT });
}

function htmlPages(dir = DIST): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return htmlPages(path);
    return entry.name.endsWith('.html') && entry.name !== '404.html' ? [relative(DIST, path)] : [];
  });
}

/** Everything that went wrong on a page: console errors, uncaught errors, failed or 4xx/5xx requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => {
    const reason = r.failure()?.errorText ?? '';
    // VitePress prefetches the chunks of linked pages when idle, and loads a page's own lazy
    // chunks after 'load'; leaving the page cancels them (ERR_ABORTED). A chunk that is really
    // missing answers 404, which the response check below reports.
    if (reason === 'net::ERR_ABORTED' && (r.resourceType() === 'other' || r.resourceType() === 'script')) return;
    problems.push(`failed: ${r.url()} (${r.resourceType()}) ${reason}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Opens a playground hash and waits until the page has computed it. */
async function openInPlayground(page: Page, hash: string, id: string): Promise<string> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  const output = page.locator(`[data-testid="output-marbles"][data-case="${id}"]`);
  await output.waitFor({ state: 'attached', timeout: 10_000 });
  return (await output.textContent()) ?? '';
}

describe.skipIf(chromiumMissing !== undefined)('the documentation site in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    await buildSite();
    server = await serveStatic(DIST, BASE);
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('every page loads without console errors or failed requests', async () => {
    const pages = htmlPages();
    expect(pages.length).toBeGreaterThan(20);
    expect(pages).toEqual(expect.arrayContaining(['index.html', 'playground.html', 'operators/boundedBuffer.html']));
    const page = await browser.context.newPage();
    const problems = watch(page);
    const byPage: string[] = [];
    for (const path of pages) {
      const before = problems.length;
      await page.goto(server.url + path, { waitUntil: 'load' });
      await page.locator('.VPContent').waitFor();
      byPage.push(...problems.slice(before).map((p) => `${path}: ${p}`));
    }
    await page.close();
    expect(byPage).toEqual([]);
  }, 120_000);

  it('every marble case opened in the playground gives the output it gives in Node', async () => {
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${server.url}playground.html#case=${marbleCases[0]?.id ?? ''}`);
    const mismatches: string[] = [];
    for (const c of marbleCases) {
      const inNode = outputText(executeCase(c).output, c.expected.values ?? {}).text;
      const inBrowser = await openInPlayground(page, `#case=${encodeURIComponent(c.id)}`, c.id);
      if (inBrowser !== inNode)
        mismatches.push(`${c.id}: browser ${JSON.stringify(inBrowser)}, node ${JSON.stringify(inNode)}`);
    }
    await page.close();
    expect(mismatches).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);

  it("an operator page's 'open in the playground' link opens its case in one click", async () => {
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${server.url}operators/mergeWorkers.html`);
    const link = page.getByRole('link', { name: 'Open mergeWorkers-demand in the playground' });
    await link.click();
    const output = page.locator('[data-testid="output-marbles"][data-case="mergeWorkers-demand"]');
    await output.waitFor({ state: 'attached', timeout: 10_000 });
    const c = marbleCases.find((x) => x.id === 'mergeWorkers-demand');
    expect(c).toBeDefined();
    if (c !== undefined) expect(await output.textContent()).toBe(outputText(executeCase(c).output).text);
    expect(await page.getByTestId('demand').textContent()).toBe('2--1-1');
    expect(await page.getByTestId('diagram').innerHTML()).toMatch(/>demand</);
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows an invalid marble string or option as an error next to its field, not a blank page', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}playground.html#case=boundedBuffer-block-demand`);
    await page.getByTestId('source').fill('-a-(b|');
    const sourceError = page.locator('[data-field="source"] [data-testid="playground-error"]');
    await expect.poll(() => sourceError.textContent()).toMatch(/not closed/);
    expect(await page.locator('h1').textContent()).toContain('playground');

    await page.goto(`${server.url}playground.html#op=boundedBuffer&options=${encodeURIComponent('{"capacity":0}')}`);
    const optionsError = page.locator('[data-field="options"] [data-testid="playground-error"]');
    await expect.poll(() => optionsError.textContent()).toMatch(/boundedBuffer.*capacity/);
    await page.getByTestId('options').fill('{ "capacity": 2, ');
    await expect.poll(() => optionsError.textContent()).toMatch(/JSON/);
    await page.close();
  }, 60_000);

  it('a shared link reproduces the diagram', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}playground.html#op=boundedBuffer`);
    await page.getByTestId('source').fill('ab-cdef--|');
    await page.getByTestId('options').fill('{ "capacity": 2, "overflow": "drop-newest" }');
    await page.getByTestId('consumer').fill('3');
    await page.locator('[data-testid="output-marbles"][data-ready="ok"]').waitFor();
    await expect.poll(() => page.evaluate(() => location.hash)).toContain('consumer=3');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="output-marbles"]')?.getAttribute('data-state') === location.hash,
    );
    const link = await page.evaluate(() => location.href);
    const diagram = await page.getByTestId('diagram').innerHTML();
    const output = await page.getByTestId('output-marbles').textContent();
    expect(diagram).toContain('<svg');
    expect(diagram).toContain('pullEvery(3)');
    await page.close();

    const other = await browser.context.newPage();
    await other.goto(link);
    await other.locator('[data-testid="output-marbles"][data-ready="ok"]').waitFor();
    expect(await other.getByTestId('output-marbles').textContent()).toBe(output);
    expect(await other.getByTestId('diagram').innerHTML()).toBe(diagram);
    await other.close();
  }, 60_000);
});
