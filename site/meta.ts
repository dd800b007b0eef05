/**
 * Where the project lives. Assumed names: the GitHub repository and its GitHub Pages site (the
 * same values are in package.json's repository, homepage and bugs fields).
 */
export const REPOSITORY = 'https://github.com/rxjs-backpressure/rxjs-backpressure';
export const SITE_URL = 'https://rxjs-backpressure.github.io/rxjs-backpressure/';
/** The path the site is served under (GitHub Pages serves a project site under its name). */
export const BASE = '/rxjs-backpressure/';
