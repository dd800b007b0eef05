import { InjectionToken } from '@angular/core';
import { animationFrameScheduler, asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * Where the feed's demand is timed: one tick per animation frame in the app. Tests give a
 * VirtualTimeScheduler, so a "frame" is whatever the test says it is.
 */
export const FRAME_SCHEDULER = new InjectionToken<SchedulerLike>('FRAME_SCHEDULER', {
  providedIn: 'root',
  factory: () => animationFrameScheduler,
});

/** The delay of each tick on FRAME_SCHEDULER; 0 is "the next animation frame". */
export const FRAME_PERIOD = new InjectionToken<number>('FRAME_PERIOD', { providedIn: 'root', factory: () => 0 });

/** Times the analytics batches' maxWait and the retry backoff. */
export const ANALYTICS_SCHEDULER = new InjectionToken<SchedulerLike>('ANALYTICS_SCHEDULER', {
  providedIn: 'root',
  factory: () => asyncScheduler,
});
