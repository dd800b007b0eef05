/**
 * A web service that queues jobs and drains the queue on SIGTERM, with a deadline.
 *
 * POST /jobs?ms=<work time> enqueues a job (202), or answers 503 when the queue is full: the
 * handler never waits. Jobs run on a pool of workers. On SIGTERM the service stops accepting
 * HTTP requests and jobs, lets queued and running jobs finish, aborts what is still running
 * when the deadline passes, logs the drain report and exits.
 *
 * Run: npx tsx examples/graceful-shutdown.ts, then
 *      curl -XPOST 'localhost:8080/jobs?ms=2000'; kill -TERM <pid>
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, pipe } from 'rxjs';
import { channel, drainOnComplete, mergeWorkers, type DrainReport } from '../index.js';

export interface ServiceOptions {
  port: number;
  queueCapacity: number;
  concurrency: number;
  /** Milliseconds the drain may take before running jobs are aborted. */
  deadline: number;
}

export interface Service {
  readonly server: Server;
  /** Starts the drain (what SIGTERM does); resolves with the report once it is over. */
  shutdown(): Promise<DrainReport>;
  /** Resolves when the service is listening, with its port. */
  readonly listening: Promise<number>;
}

/** A job: wait `ms`, unless the pool aborts it (the drain deadline). */
function runJob(ms: number, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(ms), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

export function startService(options: ServiceOptions): Service {
  const jobs = channel<number>({ capacity: options.queueCapacity });
  const stop = new AbortController();
  let report: DrainReport | undefined;

  const done = lastValueFrom(
    jobs.observable.pipe(
      drainOnComplete(
        pipe(mergeWorkers((ms: number, { signal }) => runJob(ms, signal), { concurrency: options.concurrency })),
        // drainSource: the jobs still in the channel were promised a run (202), so the drain
        // takes them too; closing the channel ends the source once they are handed out.
        { stop: stop.signal, drainSource: true, deadline: options.deadline, onReport: (r) => (report = r) },
      ),
    ),
    { defaultValue: undefined },
  );

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'POST' || url.pathname !== '/jobs') {
      res.writeHead(404).end();
      return;
    }
    const ms = Number(url.searchParams.get('ms') ?? '100');
    // trySend never waits: a full queue (or one that is draining) is the client's 503.
    if (!stop.signal.aborted && Number.isFinite(ms) && ms >= 0 && jobs.trySend(ms)) res.writeHead(202).end('queued\n');
    else res.writeHead(503, { 'retry-after': '1' }).end('busy\n');
  });
  const listening = new Promise<number>((resolve) => {
    server.listen(options.port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });

  async function shutdown(): Promise<DrainReport> {
    server.close(); // no new connections; requests in progress finish
    jobs.close(); // no new jobs: trySend answers false, so late requests get 503
    stop.abort(); // the deadline clock starts; queued and running jobs finish or are aborted

    await done;
    return report!;
  }

  return { server, shutdown, listening };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const service = startService({ port: 8080, queueCapacity: 100, concurrency: 4, deadline: 5_000 });
  void service.listening.then((port) => console.log(`listening on 127.0.0.1:${port}`));
  process.once('SIGTERM', () => {
    void service.shutdown().then((report) => {
      console.log('drained', report);
      process.exit(report.outcome === 'deadline' ? 1 : 0);
    });
  });
}
