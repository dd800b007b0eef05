/**
 * The failure modes this library answers for, with stable IDs: the project's own copy of the
 * index it was given (the project never reads ../shared). Every ID has a row in
 * docs/failure-modes.md and at least one test titled `[ID] ...`;
 * test/failure-modes/completeness.test.ts checks both.
 */
export const FAILURE_MODES: Readonly<Record<string, { readonly name: string; readonly family: string }>> = {
  'PP-01': { name: 'Consumer closes the channel', family: 'Push-Pull, find the bug' },
  'PP-02': {
    name: 'wg.Wait() before close (wait on completion that can never come)',
    family: 'Push-Pull, find the bug',
  },
  'PP-03': {
    name: 'Fan-in closed by a worker (output completed by the first finishing worker)',
    family: 'Push-Pull, find the bug',
  },
  'PP-04': { name: 'Unbounded queue OOM', family: 'Push-Pull, find the bug' },
  'PP-05': { name: 'Blocked producer leak on cancel', family: 'Push-Pull, find the bug' },
  'PP-06': { name: 'Lost work on shutdown (abort used where drain was meant)', family: 'Push-Pull, find the bug' },
  'PP-07': { name: 'Mutating a pushed item', family: 'Push-Pull, find the bug' },
  'PP-08': { name: 'Reused batch slice', family: 'Push-Pull, find the bug' },
  'PP-09': { name: 'Deadlock with no consumer', family: 'Push-Pull, find the bug' },
  'PP-10': {
    name: 'Dropped context cancellation (a stage ignores cancellation on send)',
    family: 'Push-Pull, find the bug',
  },
  'PP-11': { name: 'Pipeline cycle deadlock (retries fed back into the input)', family: 'Push-Pull, find the bug' },
  'PP-12': {
    name: 'Backpressure into the accept loop (block where one must reject)',
    family: 'Push-Pull, find the bug',
  },
  'BP-01': { name: 'Unbounded slice queue', family: 'Backpressure, find the bug' },
  'BP-02': { name: 'Hidden unboundedness via a huge buffer', family: 'Backpressure, find the bug' },
  'BP-03': { name: 'Spawn-per-request without a limit', family: 'Backpressure, find the bug' },
  'BP-04': { name: 'Forgotten close', family: 'Backpressure, find the bug' },
  'BP-05': { name: 'Double-close panic', family: 'Backpressure, find the bug' },
  'BP-06': { name: 'Blocking send in a handler', family: 'Backpressure, find the bug' },
  'BP-07': { name: 'Drop without metric', family: 'Backpressure, find the bug' },
  'BP-08': { name: 'Race between len and act (check-then-act)', family: 'Backpressure, find the bug' },
  'BP-09': { name: 'Missing context check in worker', family: 'Backpressure, find the bug' },
  'BP-10': { name: 'Sending to a closed channel via slow shutdown', family: 'Backpressure, find the bug' },
  'BP-11': {
    name: 'Naive retry that amplifies overload (no cap, no backoff, no jitter)',
    family: 'Backpressure, find the bug',
  },
  'BP-12': {
    name: 'Misplaced defer releases the semaphore early (slot freed while work still runs)',
    family: 'Backpressure, find the bug',
  },
  'BP-13': { name: 'Wrong direction of close', family: 'Backpressure, find the bug' },
  'BP-14': { name: 'Unbounded inner buffer (spawning to "make room")', family: 'Backpressure, find the bug' },
  'BP-15': {
    name: 'Hedged request that doubles load on an overloaded downstream',
    family: 'Backpressure, find the bug',
  },
  'BP-16': { name: 'Sleep-based draining', family: 'Backpressure, find the bug' },
  'BP-17': { name: 'Drop-oldest that spins', family: 'Backpressure, find the bug' },
  'BP-18': { name: 'Adaptive limiter that never escapes overload (no floor)', family: 'Backpressure, find the bug' },
  'BP-19': {
    name: 'Buffer sized larger than the pool can drain within the latency objective',
    family: 'Backpressure, find the bug',
  },
  'BP-20': { name: 'Context inherits parent but not deadline', family: 'Backpressure, find the bug' },
  'WP-01': { name: 'The hung pool (input never closed)', family: 'Worker pools, find the bug' },
  'WP-02': { name: 'The vanishing workers (counted after start)', family: 'Worker pools, find the bug' },
  'WP-03': { name: 'Send on closed channel (a worker closes the input)', family: 'Worker pools, find the bug' },
  'WP-04': { name: 'The race condition (shared counter)', family: 'Worker pools, find the bug' },
  'WP-05': { name: 'The wait that never returns (results never drained)', family: 'Worker pools, find the bug' },
  'WP-06': { name: 'The panic cascade (one bad job kills everything)', family: 'Worker pools, find the bug' },
  'WP-07': { name: "Cancellation that doesn't", family: 'Worker pools, find the bug' },
  'WP-08': { name: 'The lost results (consumer stops early, workers stuck)', family: 'Worker pools, find the bug' },
  'WP-09': { name: 'Double close (two producers)', family: 'Worker pools, find the bug' },
  'WP-10': { name: 'Pool of zero', family: 'Worker pools, find the bug' },
  'WP-11': {
    name: 'Deadlock on full results (slow consumer throttles the pool)',
    family: 'Worker pools, find the bug',
  },
  'WP-12': {
    name: 'Worker exits too early (zero value from a closed channel taken as data)',
    family: 'Worker pools, find the bug',
  },
  'WP-13': { name: 'Counter off by one', family: 'Worker pools, find the bug' },
  'ML-01': { name: 'Unbounded queue "to avoid blocking the producer"', family: 'Push-Pull, middle level' },
  'ML-02': {
    name: 'Cancellation checked in the worker loop when drain was meant (silent loss)',
    family: 'Push-Pull, middle level',
  },
  'ML-03': { name: 'Waiting before closing (deadlock)', family: 'Push-Pull, middle level' },
  'ML-04': { name: 'Closing a fan-in result from a worker', family: 'Push-Pull, middle level' },
  'ML-05': {
    name: 'A blocking push with no cancellation in a cancellable pipeline',
    family: 'Push-Pull, middle level',
  },
  'ML-06': { name: 'One giant buffer to "fix" backpressure', family: 'Push-Pull, middle level' },
  'ML-07': {
    name: 'Fan-out must self-balance: free workers pull, busy ones do not',
    family: 'Push-Pull, middle level',
  },
  'ML-08': {
    name: 'Credit-based pull across a boundary that cannot block (hybrid push/pull)',
    family: 'Push-Pull, middle level',
  },
  'ML-09': {
    name: 'A realistic pipeline: bad records are skipped without killing the pipeline, and backpressure reaches the reader',
    family: 'Push-Pull, middle level',
  },
  'ML-10': { name: 'A cancelled pipeline leaves no live producer (leak check)', family: 'Push-Pull, middle level' },
  'FO-01': {
    name: 'Workers exit early on first error; the last error, not the first, is returned',
    family: 'Fan-out, find the bug',
  },
  'FO-02': {
    name: 'Missing wg.Done on an early-return path (a slot is never released)',
    family: 'Fan-out, find the bug',
  },
  'FO-03': { name: 'Work not distributed (single worker bottleneck)', family: 'Fan-out, find the bug' },
  'FO-04': { name: 'Channel leaked: the closer never runs', family: 'Fan-out, find the bug' },
  'FO-05': { name: 'Single slow worker stalls all (head-of-line blocking)', family: 'Fan-out, find the bug' },
  'FO-06': { name: 'Unbounded fan-out exhausts memory', family: 'Fan-out, find the bug' },
  'FO-07': { name: 'Race on a shared result map', family: 'Fan-out, find the bug' },
  'FO-08': { name: 'Double-close on the result channel', family: 'Fan-out, find the bug' },
  'FO-09': { name: 'Ordering assumed but not preserved', family: 'Fan-out, find the bug' },
  'FO-10': { name: 'Cancellation ignored inside the worker', family: 'Fan-out, find the bug' },
  'FO-11': { name: 'Producer panics, workers wait forever', family: 'Fan-out, find the bug' },
  'FO-12': { name: 'Per-worker buffers causing false sharing', family: 'Fan-out, find the bug' },
  'FO-13': { name: 'Closing the input from inside a worker', family: 'Fan-out, find the bug' },
};
