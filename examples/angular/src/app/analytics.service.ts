import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { HttpClient } from '@angular/common/http';
import { batchFresh, channel, mergeWorkers, workerMonitor } from 'rxjs-backpressure';
import { ANALYTICS_SCHEDULER } from './tokens';

export interface AnalyticsEvent {
  readonly name: string;
  readonly at: number;
}

/**
 * Analytics: events wait in a bounded channel (a full channel refuses, and the refusal is
 * counted), go out in batches of 10 or every 2 s, one request at a time, retried with backoff.
 */
@Injectable({ providedIn: 'root' })
export class AnalyticsService {
  static readonly batchSize = 10;
  static readonly maxWait = 2_000;

  /** Events refused because the channel was full (the backend is down or slow). */
  readonly refused = signal(0);
  /** Batches whose send failed after every retry: dropped from analytics, but counted. */
  readonly lostBatches = signal(0);
  readonly stats = workerMonitor();
  private readonly events = channel<AnalyticsEvent>({ capacity: 500 });
  private readonly http = inject(HttpClient);

  constructor() {
    const scheduler = inject(ANALYTICS_SCHEDULER);
    this.events.observable
      .pipe(
        batchFresh({ size: AnalyticsService.batchSize, maxWait: AnalyticsService.maxWait, scheduler }),
        mergeWorkers((batch: AnalyticsEvent[]) => this.http.post<void>('/api/analytics', batch), {
          concurrency: 1,
          retry: { count: 3, delay: 500, jitter: 0 },
          scheduler,
          errors: 'continue',
          onError: () => this.lostBatches.update((n) => n + 1),
          monitor: this.stats,
        }),
        takeUntilDestroyed(inject(DestroyRef)),
      )
      .subscribe();
  }

  track(name: string): void {
    if (!this.events.trySend({ name, at: Date.now() })) this.refused.update((n) => n + 1);
  }
}
