import { ChangeDetectionStrategy, Component, InjectionToken, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { Observable, interval, map, scan, tap } from 'rxjs';
import { boundedBuffer, bufferMonitor, paceDemand } from 'rxjs-backpressure';
import { FRAME_PERIOD, FRAME_SCHEDULER } from './tokens';

export interface FeedEvent {
  readonly id: number;
  readonly text: string;
}

/** The feed's events: in the app a simulated firehose (one event a millisecond). */
export const FEED_EVENTS = new InjectionToken<Observable<FeedEvent>>('FEED_EVENTS', {
  providedIn: 'root',
  factory: () => interval(1).pipe(map((id): FeedEvent => ({ id, text: `event ${id}` }))),
});

/**
 * A fast event feed shown in a signal. The screen asks for at most 5 events per frame
 * (paceDemand); the 50-slot buffer in front keeps the newest events and counts what it drops,
 * so a busy main thread sheds old events instead of queueing them.
 */
@Component({
  selector: 'app-feed',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <p class="counters">shown {{ shown() }} · dropped {{ dropped() }}</p>
    <ol>
      @for (event of recent(); track event.id) {
        <li>{{ event.text }}</li>
      }
    </ol>
  `,
})
export class FeedComponent {
  static readonly perFrame = 5;
  static readonly kept = 20;

  readonly dropped = signal(0);
  readonly shown = signal(0);
  private readonly monitor = bufferMonitor();

  readonly recent = toSignal(
    inject(FEED_EVENTS).pipe(
      boundedBuffer({ capacity: 50, overflow: 'drop-oldest', monitor: this.monitor }),
      paceDemand({ count: FeedComponent.perFrame, scheduler: inject(FRAME_SCHEDULER), period: inject(FRAME_PERIOD) }),
      // Native operators go after the last library stage: demand does not cross them.
      tap(() => {
        this.shown.update((n) => n + 1);
        this.dropped.set(this.monitor.snapshot().dropped);
      }),
      scan((list: readonly FeedEvent[], event) => [event, ...list].slice(0, FeedComponent.kept), []),
    ),
    { initialValue: [] },
  );
}
