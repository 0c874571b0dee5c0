import { defineConfig } from 'vite';

// The API serves the app under `{BASE}/` (a runtime setting), so the build uses relative asset URLs
// and the API rewrites index.html's `./assets/` to `{BASE}/app/assets/` when it serves it.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no inline scripts (the CSP forbids them) and no modulepreload polyfill.
    modulePreload: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
