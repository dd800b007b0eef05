import { describe } from 'vitest';
import { caseGroups } from '../marbles/cases/index.js';
import { runMarbleCases } from '../marbles/run.js';

for (const group of caseGroups) {
  describe(group.name, () => {
    runMarbleCases(group.cases);
  });
}
