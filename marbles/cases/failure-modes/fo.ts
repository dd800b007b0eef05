import { defineCases } from '../../case.js';

/** Failure modes FO-xx: for each, the naive RxJS pipeline's failure and the library's prevention. */
export const foCases = defineCases('failure modes FO', []);
