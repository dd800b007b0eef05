// A CPU-bound job on a worker thread: count the primes in [from, to) by trial division.
// While it runs, this thread's event loop is busy, so it cannot read a "stop" message; the main
// thread cancels a job by terminating the thread (see thread-pool.ts).
import { performance } from 'node:perf_hooks';
import { parentPort, threadId } from 'node:worker_threads';

function isPrime(n) {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

parentPort.on('message', (job) => {
  const start = performance.now();
  let primes = 0;
  for (let n = job.from; n < job.to; n++) if (isPrime(n)) primes++;
  parentPort.postMessage({ id: job.id, primes, ms: performance.now() - start, thread: threadId });
});
