import { allCases, type CaseGroup } from '../case.js';
import { batchFreshCases } from './batchFresh.js';
import { boundedBufferCases } from './boundedBuffer.js';
import { channelCases } from './channel.js';
import { fromPullCases } from './fromPull.js';
import { mergeWorkersCases } from './mergeWorkers.js';
import { drainOnCompleteCases } from './drainOnComplete.js';
import { failureModeGroups } from './failure-modes/index.js';
import { rateLimitCases } from './rateLimit.js';
import { broadcastCases } from './broadcast.js';
import { paceDemandCases } from './paceDemand.js';
import { abortableCases } from './abortable.js';
import { toAsyncIterableCases } from './toAsyncIterable.js';

/** Every case file's group; add a new operator's cases here and they are tested and drawn. */
export const caseGroups: readonly CaseGroup[] = [
  boundedBufferCases,
  channelCases,
  fromPullCases,
  mergeWorkersCases,
  drainOnCompleteCases,
  batchFreshCases,
  toAsyncIterableCases,
  ...failureModeGroups,
  rateLimitCases,
  broadcastCases,
  paceDemandCases,
  abortableCases,
];

/** Every case, checked for unique ids and titles. */
export const marbleCases = allCases(caseGroups);
