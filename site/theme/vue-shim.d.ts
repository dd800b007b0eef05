// Lets tsc type-check theme/index.ts, which imports a single-file component (Vite compiles it).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
