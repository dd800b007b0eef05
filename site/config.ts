import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { BASE, REPOSITORY, SITE_URL } from './meta.js';

// site/pages is written by site/generate.ts (npm run docs:build runs it first); the sidebar is
// read from what it wrote, so a new operator or API entry appears without editing this file.
const pages = fileURLToPath(new URL('./pages/', import.meta.url));

function readJson<T>(file: string, fallback: T): T {
  return existsSync(pages + file) ? (JSON.parse(readFileSync(pages + file, 'utf8')) as T) : fallback;
}

const operators = readJson<string[]>('operators.json', []);
const api = readJson<DefaultTheme.SidebarItem[]>('api/typedoc-sidebar.json', []);

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'Getting started', link: '/' },
      { text: 'Design', link: '/design' },
      { text: 'Failure-mode catalog', link: '/failure-modes' },
      { text: 'Reliability', link: '/reliability' },
      { text: 'Performance', link: '/performance' },
      { text: 'Worker threads', link: '/worker-threads' },
      { text: 'Playground', link: '/playground' },
    ],
  },
  {
    text: 'Examples',
    items: [
      { text: 'A realistic pipeline', link: '/examples/realistic-pipeline' },
      { text: 'HTTP 503 under load', link: '/examples/http-503' },
      { text: 'Graceful shutdown', link: '/examples/graceful-shutdown' },
    ],
  },
  { text: 'Operators', items: operators.map((name) => ({ text: name, link: `/operators/${name}` })) },
];

export default defineConfig({
  title: 'rxjs-backpressure',
  description: 'RxJS 7 operators with pull-based demand and backpressure',
  base: BASE,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${BASE}favicon.svg` }]],
  srcDir: 'pages',
  cleanUrls: false,
  lastUpdated: false,
  // Every generated link must resolve: a dead link fails the build.
  ignoreDeadLinks: false,
  sitemap: { hostname: SITE_URL },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/' },
      { text: 'Operators', link: `/operators/${operators[0] ?? ''}` },
      { text: 'API', link: '/api/' },
      { text: 'Failure modes', link: '/failure-modes' },
      { text: 'Playground', link: '/playground' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: api }],
      '/': guide,
    },
    socialLinks: [{ icon: 'github', link: REPOSITORY }],
    search: { provider: 'local' },
    outline: [2, 3],
  },
  vite: {
    // The playground bundles the library's TypeScript sources (index.ts, marbles/) as they are.
    server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
    build: { chunkSizeWarningLimit: 2000 },
  },
});
