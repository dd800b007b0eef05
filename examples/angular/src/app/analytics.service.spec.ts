import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsService, type AnalyticsEvent } from './analytics.service';
import { ANALYTICS_SCHEDULER } from './tokens';

describe('AnalyticsService', () => {
  let analytics: AnalyticsService;
  let http: HttpTestingController;
  let clock: VirtualTimeScheduler;

  beforeEach(() => {
    clock = new VirtualTimeScheduler();
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: ANALYTICS_SCHEDULER, useValue: clock },
      ],
    });
    analytics = TestBed.inject(AnalyticsService);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  function advance(ms: number): void {
    const target = clock.frame + ms;
    clock.schedule(() => undefined, ms);
    clock.maxFrames = target;
    clock.flush();
  }

  it('sends batches of 10, and retries a failed batch after its backoff', () => {
    for (let i = 0; i < 10; i++) analytics.track(`click-${i}`);
    const first = http.expectOne('/api/analytics');
    expect((first.request.body as AnalyticsEvent[]).map((e) => e.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `click-${i}`),
    );
    first.flush('down', { status: 503, statusText: 'Service Unavailable' });
    http.expectNone('/api/analytics'); // the retry waits for its backoff (500 ms)
    advance(499);
    http.expectNone('/api/analytics');
    advance(1);
    const retry = http.expectOne('/api/analytics');
    expect(retry.request.body as AnalyticsEvent[]).toHaveLength(10);
    retry.flush(null);
    expect(analytics.stats.snapshot()).toMatchObject({ completed: 1, retried: 1, failed: 0, inFlight: 0 });
  });

  it('sends a partial batch after maxWait', () => {
    analytics.track('a');
    analytics.track('b');
    advance(AnalyticsService.maxWait - 1);
    http.expectNone('/api/analytics');
    advance(1);
    http.expectOne('/api/analytics').flush(null);
  });

  it('while the backend hangs, events beyond the bounds are refused and counted, not queued', () => {
    for (let i = 0; i < 600; i++) analytics.track(`e${i}`);
    const hanging = http.expectOne('/api/analytics');
    // Held: the batch being sent, one complete batch waiting (batchFresh takes no more values
    // while one waits), and the channel's 500. Everything else was refused at once.
    expect(analytics.refused()).toBe(600 - 500 - 2 * AnalyticsService.batchSize);
    let sent = (hanging.request.body as AnalyticsEvent[]).length;
    hanging.flush(null);
    // The backend is back: what was held goes out, batch after batch; nothing accepted is lost.
    for (let open = http.match('/api/analytics'); open.length > 0; open = http.match('/api/analytics')) {
      for (const req of open) {
        sent += (req.request.body as AnalyticsEvent[]).length;
        req.flush(null);
      }
    }
    expect(sent + analytics.refused()).toBe(600);
  });
});
