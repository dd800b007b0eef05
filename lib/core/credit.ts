import type { Upstream } from './upstream.js';

/**
 * What a consumer-side stage has asked its source for and not yet received: the one piece of
 * bookkeeping every stage that pulls keeps (the queue, batchFresh, the pool, the drain's relay).
 * `Infinity` means the source is no longer metered; once there, it stays.
 */
export class Credit {
  /** Requested and not yet received. */
  outstanding = 0;

  constructor(private readonly upstream: Upstream<unknown>) {}

  /** Whether the source was asked for everything. */
  get unmetered(): boolean {
    return this.outstanding === Infinity;
  }

  /** Asks the source for `n` more (nothing when `n <= 0` or already unmetered). */
  request(n: number): void {
    if (n <= 0 || this.outstanding === Infinity) return;
    this.outstanding += n;
    this.upstream.request(n);
  }

  /** Records `n` as asked for by `upstream.connect(observer, n)`, which makes the request itself. */
  expect(n: number): void {
    this.outstanding += n;
  }

  /** `n` expected by `expect(n)` will not come: the source fused instead of being asked. */
  forget(n: number): void {
    this.outstanding -= n;
  }

  /** Asks for whatever brings the outstanding credit up to `target`. */
  topUp(target: number): void {
    this.request(target - this.outstanding);
  }

  /** One requested value arrived. */
  received(): void {
    if (this.outstanding !== Infinity && this.outstanding > 0) this.outstanding--;
  }
}
