import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The candidate's console: built into dist/web, served by the engine at `/`
 * (see src/web/). Self-contained: no CDN, no inline script (the engine's
 * Content-Security-Policy forbids it), hashed asset names cached immutably.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // The server reads the manifest to link entries into pages it renders
    // (the staff report's recording player, src/replay/replay.ts).
    manifest: true,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        replay: fileURLToPath(new URL('src/replay/replay.ts', import.meta.url)),
      },
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
