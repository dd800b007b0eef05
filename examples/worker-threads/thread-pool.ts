import { Worker } from 'node:worker_threads';

/**
 * A fixed number of worker threads running one script, one job per thread at a time. It does no
 * queueing of its own: give mergeWorkers `concurrency` equal to `size`, and the pool's slots are
 * the threads (a value is taken from the source only when a thread is free).
 */
export class ThreadPool<Job, Result> {
  private readonly idle: Worker[] = [];
  private threads = 0;
  /** Threads terminated because their job was aborted. */
  terminated = 0;

  /**
   * @param script The worker script; it answers each job message with one result message.
   * @param size How many threads at most.
   * @param onTerminate Called when a running job is aborted and its thread terminated.
   */
  constructor(
    private readonly script: URL,
    readonly size: number,
    private readonly onTerminate?: (job: Job, reason: unknown) => void,
  ) {}

  /**
   * Runs `job` on a free thread. When `signal` aborts, the thread is terminated (a CPU-bound loop
   * cannot be interrupted any other way), a fresh one replaces it on the next job, and the
   * promise rejects with the signal's reason.
   */
  run(job: Job, signal: AbortSignal): Promise<Result> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const worker = this.idle.pop() ?? this.spawn();
    return new Promise<Result>((resolve, reject) => {
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      const onMessage = (result: Result): void => {
        cleanup();
        this.idle.push(worker);
        resolve(result);
      };
      const onError = (err: Error): void => {
        cleanup();
        this.discard(worker);
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        this.threads--;
        reject(new Error(`worker thread exited with code ${code} while running a job`));
      };
      // Only registered while the job runs: a signal that aborts after the result arrived
      // (mergeWorkers aborts every value it has not finished with) has nothing left to stop.
      const onAbort = (): void => {
        cleanup();
        this.terminated++;
        this.discard(worker);
        this.onTerminate?.(job, signal.reason);
        reject(signal.reason as Error);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage(job);
    });
  }

  /** Terminates every idle thread; call it when no job is running any more. */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    this.threads -= idle.length;
    await Promise.all(idle.map((worker) => worker.terminate()));
  }

  private spawn(): Worker {
    if (this.threads >= this.size) {
      throw new Error(`ThreadPool: all ${this.size} threads are busy; use concurrency <= size`);
    }
    this.threads++;
    return new Worker(this.script);
  }

  private discard(worker: Worker): void {
    this.threads--;
    void worker.terminate();
  }
}
