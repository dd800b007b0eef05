import { defineCases } from '../../case.js';

/** Failure modes WP-xx: for each, the naive RxJS pipeline's failure and the library's prevention. */
export const wpCases = defineCases('failure modes WP', []);
