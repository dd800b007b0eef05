import { defineCases } from '../../case.js';

/** Failure modes BP-xx: for each, the naive RxJS pipeline's failure and the library's prevention. */
export const bpCases = defineCases('failure modes BP', []);
