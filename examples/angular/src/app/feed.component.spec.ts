import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FEED_EVENTS, FeedComponent, type FeedEvent } from './feed.component';
import { FRAME_PERIOD, FRAME_SCHEDULER } from './tokens';

const FRAME = 16;

describe('FeedComponent', () => {
  let fixture: ComponentFixture<FeedComponent>;
  let events: Subject<FeedEvent>;
  let frames: VirtualTimeScheduler;

  beforeEach(async () => {
    events = new Subject<FeedEvent>();
    frames = new VirtualTimeScheduler();
    TestBed.configureTestingModule({
      imports: [FeedComponent],
      providers: [
        provideZonelessChangeDetection(),
        { provide: FEED_EVENTS, useValue: events },
        { provide: FRAME_SCHEDULER, useValue: frames },
        { provide: FRAME_PERIOD, useValue: FRAME },
      ],
    });
    fixture = TestBed.createComponent(FeedComponent);
    await fixture.whenStable();
  });

  /** Draws `n` frames of virtual time. */
  async function drawFrames(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const target = frames.frame + FRAME;
      frames.schedule(() => undefined, FRAME); // moves the clock even when no tick is due
      frames.maxFrames = target;
      frames.flush();
    }
    await fixture.whenStable();
  }

  function burst(from: number, count: number): void {
    for (let id = from; id < from + count; id++) events.next({ id, text: `event ${id}` });
  }

  const items = (): string[] =>
    Array.from((fixture.nativeElement as HTMLElement).querySelectorAll('li'), (li) => li.textContent?.trim() ?? '');
  const counters = (): string =>
    (fixture.nativeElement as HTMLElement).querySelector('.counters')?.textContent?.trim() ?? '';

  it('shows at most 5 events per frame; the buffer keeps the newest 50 and counts what it drops', async () => {
    burst(0, 200); // 200 events within one frame
    await fixture.whenStable();
    expect(counters()).toBe('shown 5 · dropped 0'); // the first frame's credit, shown at once
    await drawFrames(1);
    // 195 arrived with no credit: the buffer kept the newest 50 (150..199) and dropped 145.
    expect(counters()).toBe('shown 10 · dropped 145');
    expect(items().slice(0, 2)).toEqual(['event 154', 'event 153']);
    await drawFrames(9);
    expect(counters()).toBe('shown 55 · dropped 145');
    expect(items()).toHaveLength(20);
    expect(items()[0]).toBe('event 199');
    await drawFrames(5); // idle: nothing more to show, nothing more dropped
    expect(counters()).toBe('shown 55 · dropped 145');
  });

  it('a source slower than the screen loses nothing', async () => {
    for (let i = 0; i < 30; i++) {
      burst(i * 3, 3); // 3 events per frame, under the 5 the screen takes
      await drawFrames(1);
    }
    expect(counters()).toBe('shown 90 · dropped 0');
  });

  it('destroying the component unsubscribes the feed and cancels the pending frame', async () => {
    burst(0, 10);
    await fixture.whenStable();
    expect(events.observed).toBe(true);
    fixture.destroy();
    expect(events.observed).toBe(false);
    expect(frames.actions.every((a) => a.closed)).toBe(true);
  });
});

describe('FeedComponent with the default scheduler (animation frames of the DOM)', () => {
  it('paces by requestAnimationFrame: 5 at once, 5 a frame after, the overflow dropped', async () => {
    const events = new Subject<FeedEvent>();
    TestBed.configureTestingModule({
      imports: [FeedComponent],
      providers: [provideZonelessChangeDetection(), { provide: FEED_EVENTS, useValue: events }],
    });
    const fixture = TestBed.createComponent(FeedComponent);
    await fixture.whenStable();
    for (let id = 0; id < 200; id++) events.next({ id, text: `event ${id}` });
    const counters = (): string =>
      (fixture.nativeElement as HTMLElement).querySelector('.counters')?.textContent?.trim() ?? '';
    await fixture.whenStable();
    expect(counters()).toBe('shown 5 · dropped 0');
    // However fast the frames come, the outcome is the same: the newest 50 are shown, 145 dropped.
    await vi.waitFor(
      async () => {
        await fixture.whenStable();
        expect(counters()).toBe('shown 55 · dropped 145');
      },
      { timeout: 10_000, interval: 20 },
    );
  });
});
