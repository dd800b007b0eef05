import { defineCases } from '../../case.js';

/** Failure modes ML-xx: for each, the naive RxJS pipeline's failure and the library's prevention. */
export const mlCases = defineCases('failure modes ML', []);
