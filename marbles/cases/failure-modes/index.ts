import type { CaseGroup } from '../../case.js';
import { bpCases } from './bp.js';
import { foCases } from './fo.js';
import { mlCases } from './ml.js';
import { ppCases } from './pp.js';
import { wpCases } from './wp.js';

/** The failure-mode catalog's cases, one group per family of docs/failure-modes.md. */
export const failureModeGroups: readonly CaseGroup[] = [ppCases, bpCases, wpCases, mlCases, foCases].filter(
  // A family still being written has no cases yet; an empty describe would fail the run.
  (group) => group.cases.length > 0,
);
