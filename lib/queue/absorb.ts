import type { Observable } from 'rxjs';
import { demandProtocolOf, type DemandObservable } from '../core/protocol.js';
import { boundedQueue, type QueueConfig } from './bounded-queue.js';

/**
 * A source every library stage can pull from: a pausable source as it is, and a push source
 * absorbed by a bounded queue with the given capacity and overflow policy. The one place where
 * a stage decides what to do with a source that cannot be paused (the pool, toAsyncIterable and
 * drainOnComplete's outlet all come through here), so no stage keeps a copy of that choice.
 */
export function pausableOf<T>(source: Observable<T>, config: QueueConfig<T>): DemandObservable<T> {
  return demandProtocolOf(source) !== undefined ? (source as DemandObservable<T>) : boundedQueue(source, config);
}
