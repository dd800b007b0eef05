import { defineCases } from '../../case.js';

/** Failure modes PP-xx: for each, the naive RxJS pipeline's failure and the library's prevention. */
export const ppCases = defineCases('failure modes PP', []);
