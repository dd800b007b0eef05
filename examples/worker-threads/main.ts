/**
 * CPU-bound work on worker threads, driven by mergeWorkers.
 *
 *   npx tsx examples/worker-threads/main.ts
 *
 * The pool has one thread per core and mergeWorkers runs with the same concurrency, so a job is
 * taken from the source only when a thread is free. Part 2 stops early (take) and shows that
 * the jobs still running are aborted and their threads terminated.
 */
import { availableParallelism } from 'node:os';
import { lastValueFrom, take, tap, toArray } from 'rxjs';
import { CancelledError, fromPull, mergeWorkers } from '../../index.js';
import { ThreadPool } from './thread-pool.js';

interface Job {
  id: number;
  from: number;
  to: number;
}

interface Done {
  id: number;
  primes: number;
  ms: number;
  thread: number;
}

// WORKER_THREADS and WORKER_CHUNK make a small run (npm test uses 2 threads, 20,000 numbers a job).
const THREADS = Number(process.env['WORKER_THREADS'] ?? availableParallelism());
const CHUNK = Number(process.env['WORKER_CHUNK'] ?? 500_000);

/** Jobs are made lazily: fromPull asks the generator for one only when a thread is free. */
function* jobs(count: number): Generator<Job> {
  for (let id = 0; id < count; id++) yield { id, from: id * CHUNK, to: (id + 1) * CHUNK };
}

const pool = new ThreadPool<Job, Done>(new URL('./worker.mjs', import.meta.url), THREADS, (job, reason) => {
  const why = reason instanceof CancelledError ? `CancelledError, reason '${reason.reason}'` : String(reason);
  console.log(`  job ${job.id} aborted (${why}): its thread was terminated`);
});

/** The worker function: hands the job and the value's AbortSignal to the thread pool. */
function countPrimes(job: Job, { signal }: { signal: AbortSignal }): Promise<Done> {
  return pool.run(job, signal);
}

console.log(`${THREADS} worker threads, mergeWorkers concurrency ${THREADS}`);

// Part 1: twelve jobs of 500,000 numbers each, results as they finish.
console.log('\n1. count the primes below 6,000,000 in 12 jobs');
let start = performance.now();
const results = await lastValueFrom(
  fromPull(jobs(12)).pipe(
    mergeWorkers(countPrimes, { concurrency: THREADS }),
    tap((d) =>
      console.log(
        `  job ${String(d.id).padStart(2)}: ${d.primes} primes in ${d.ms.toFixed(0)} ms on thread ${d.thread}`,
      ),
    ),
    toArray(),
  ),
);
const wall = performance.now() - start;
const busy = results.reduce((sum, d) => sum + d.ms, 0);
const total = results.reduce((sum, d) => sum + d.primes, 0);
console.log(
  `  ${total} primes; ${wall.toFixed(0)} ms wall time for ${busy.toFixed(0)} ms of work (${(busy / wall).toFixed(1)} threads busy on average)`,
);

// Part 2: the consumer wants only 3 results. take(3) unsubscribes, mergeWorkers aborts the
// signals of the jobs still running, and the pool terminates their threads.
console.log('\n2. the same jobs, but take(3): the jobs still running are cancelled');
start = performance.now();
const firstThree = await lastValueFrom(
  fromPull(jobs(12)).pipe(mergeWorkers(countPrimes, { concurrency: THREADS }), take(3), toArray()),
);
console.log(
  `  got jobs ${firstThree.map((d) => d.id).join(', ')} in ${(performance.now() - start).toFixed(0)} ms; ` +
    `${pool.terminated} thread(s) terminated`,
);

await pool.close();
