import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';
import { serveStatic, type Route, type StaticServer } from './server.js';
import type * as Scenarios from './scenarios.js';

/*
 * The library's own behaviour in Chromium: test/browser/scenarios.ts is bundled with the library
 * and rxjs into one script, loaded in a page, and each scenario is called from here.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE = '/lib/';

if (chromiumMissing !== undefined) console.warn(chromiumMissing);

/** What the /lib/work endpoint saw: requests in flight at most, and those the client aborted. */
const work = { inFlight: 0, maxInFlight: 0, started: [] as number[], aborted: [] as number[] };

/** `/lib/work?n=N`: answers N after 10 ms, except N = 4, which never answers (it can only be aborted). */
const workRoute: Route = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== `${BASE}work`) return false;
  const n = Number(url.searchParams.get('n'));
  work.started.push(n);
  work.maxInFlight = Math.max(work.maxInFlight, ++work.inFlight);
  const timer = n === 4 ? undefined : setTimeout(() => res.end(`result ${n}`), 10);
  res.on('close', () => {
    work.inFlight--;
    clearTimeout(timer);
    if (!res.writableFinished) work.aborted.push(n);
  });
  return true;
};

function pageRoute(bundle: string): Route {
  return (req, res) => {
    if (req.url === `${BASE}index.html`) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="scenarios.js"></script>');
      return true;
    }
    if (req.url === `${BASE}scenarios.js`) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return true;
    }
    return false;
  };
}

async function bundleScenarios(): Promise<string> {
  const result = await build({
    entryPoints: [resolve(ROOT, 'test/browser/scenarios.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'scenarios',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  return result.outputFiles[0]?.text ?? '';
}

type Name = keyof typeof Scenarios;
type Result<N extends Name> = Awaited<ReturnType<(typeof Scenarios)[N]>>;

/** Calls a scenario in the page and returns its (JSON) result. */
function inBrowser<N extends Name>(
  page: Page,
  name: N,
  ...args: Parameters<(typeof Scenarios)[N]>
): Promise<Result<N>> {
  return page.evaluate(
    ([n, a]) => {
      const all = (globalThis as unknown as { scenarios: Record<string, (...x: unknown[]) => unknown> }).scenarios;
      return all[n]?.(...a) as Promise<never>;
    },
    [name, args] as const,
  );
}

describe.skipIf(chromiumMissing !== undefined)('the library in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await serveStatic(resolve(ROOT, 'test/browser'), '/nothing-static/', [
      workRoute,
      pageRoute(await bundleScenarios()),
    ]);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url.replace('/nothing-static/', `${BASE}index.html`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    expect(problems).toEqual([]);
  }, 30_000);

  it('fromPull over a web ReadableStream reads only what is asked for and cancels the stream on take', async () => {
    const r = await inBrowser(page, 'fromPullOverReadableStream');
    expect(r.values).toEqual([1, 2, 3]);
    expect(r.pulls).toBeLessThanOrEqual(4);
    expect(r.cancelled).toMatch(/^cancelled/);
  });

  it('mergeWorkers with fetch: two requests at a time, and the running one is aborted when the output ends', async () => {
    const base = server.url.replace('/nothing-static/', BASE);
    const r = await inBrowser(page, 'mergeWorkersWithFetch', base);
    // Results come as the requests finish, in whatever order the network gives.
    expect([...r.results].sort()).toEqual(['result 1', 'result 2', 'result 3']);
    // Pulled, not pushed: nothing was read beyond the four values that got a worker.
    expect(r.read).toEqual([1, 2, 3, 4]);
    expect(r.aborted).toEqual([true, true, true, true].map((_, i) => i === 3));
    // fetch rejects with the signal's reason: the library's CancelledError, not a bare AbortError.
    expect(r.errors).toEqual(['CancelledError']);
    await expect.poll(() => work.aborted).toEqual([4]);
    expect(work.maxInFlight).toBeLessThanOrEqual(2);
    expect(work.started.sort()).toEqual([1, 2, 3, 4]);
  });

  it('toAsyncIterable pulls one value per iteration and closes the source on break', async () => {
    const r = await inBrowser(page, 'toAsyncIterableBreak');
    expect(r.got).toEqual([0, 1, 2]);
    expect(r.read).toBeLessThanOrEqual(4);
    expect(r.closed).toBe(true);
    expect(await inBrowser(page, 'toAsyncIterablePush')).toEqual([0, 1, 2, 3, 4]);
  });
});
