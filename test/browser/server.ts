import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, normalize, resolve, sep } from 'node:path';

/*
 * A tiny static server for the built site (and a few test routes), on 127.0.0.1 and a free port.
 * It serves `root` under `base` as GitHub Pages would, and nothing outside `root`.
 */

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** A route the tests add (e.g. a slow endpoint); return true when it answered. */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface StaticServer {
  readonly url: string;
  /** The served requests, for asserting that none failed. */
  readonly log: readonly { readonly path: string; readonly status: number }[];
  close(): Promise<void>;
}

export async function serveStatic(root: string, base: string, routes: readonly Route[] = []): Promise<StaticServer> {
  const log: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    res.on('finish', () => log.push({ path: req.url ?? '', status: res.statusCode }));
    if (routes.some((route) => route(req, res))) return;
    const file = fileFor(root, base, req.url ?? '/');
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ready);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    log,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function fileFor(root: string, base: string, url: string): string | undefined {
  const path = decodeURIComponent(new URL(url, 'http://x').pathname);
  if (!path.startsWith(base)) return undefined;
  const relative = normalize(path.slice(base.length));
  const candidate = resolve(root, relative);
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  for (const file of [candidate, `${candidate}.html`, resolve(candidate, 'index.html')]) {
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}
