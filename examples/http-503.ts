/**
 * The request handler that must answer 503 rather than block (PP-12): an HTTP server whose
 * handler offers each job to a bounded channel with `trySend` and answers at once, 202 when the
 * job was taken and 503 with Retry-After when the channel is full. A pool of workers drains the
 * channel. Explained in docs/examples/http-503.md.
 *
 * `npx tsx examples/http-503.ts` listens on 127.0.0.1:8080; POST a body to /jobs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Subscription } from 'rxjs';
import { channel, mergeWorkers, workerMonitor, type Channel, type Monitor, type WorkerStats } from '../index.js';

export interface Job {
  readonly id: number;
  readonly body: string;
}

export interface JobServerOptions {
  /** Jobs that may wait for a worker; one more is answered 503. */
  capacity: number;
  /** Jobs worked on at once. */
  concurrency: number;
  /** Does the job; gets an AbortSignal that fires when the server shuts down. */
  work: (job: Job, signal: AbortSignal) => Promise<void>;
  /** Seconds a rejected client is told to wait before retrying (default 1). */
  retryAfter?: number;
}

export interface JobServer {
  readonly server: Server;
  readonly jobs: Channel<Job>;
  readonly stats: Monitor<WorkerStats>;
  /** Starts listening on 127.0.0.1 (port 0: any free port); resolves with the port. */
  listen(port?: number): Promise<number>;
  /** Stops accepting requests and jobs, and aborts the workers. */
  close(): Promise<void>;
}

export function createJobServer(options: JobServerOptions): JobServer {
  const { capacity, concurrency, work, retryAfter = 1 } = options;
  const jobs = channel<Job>({ capacity });
  const stats = workerMonitor();
  let nextId = 0;

  // The workers pull from the channel: a job leaves it only when a worker is free.
  const workers: Subscription = jobs.observable
    .pipe(
      mergeWorkers((job: Job, { signal }) => work(job, signal), {
        concurrency,
        errors: 'continue',
        // A failed job must be seen somewhere: the pool goes on, the failure goes to the log.
        onError: (err, job) => console.error(`job ${job.id} failed:`, err),
        monitor: stats,
      }),
    )
    .subscribe();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/jobs') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const job: Job = { id: nextId++, body };
    // Never wait here: a handler that waits for room holds its connection, and under load the
    // waiting handlers are the unbounded queue. Take the job or say no, now.
    if (jobs.trySend(job)) {
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: job.id }));
    } else {
      res.writeHead(503, { 'retry-after': String(retryAfter) }).end('overloaded, retry later');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });

  return {
    server,
    jobs,
    stats,
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      jobs.close();
      workers.unsubscribe();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const service = createJobServer({
    capacity: 100,
    concurrency: 4,
    work: (job, signal) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 50);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
        void job;
      }),
  });
  const port = await service.listen(8080);
  console.log(`listening on http://127.0.0.1:${port}/jobs`);
  process.once('SIGINT', () => void service.close());
}
