/**
 * The dashboard's build: `npm run build:web` writes web/dist, which the
 * server serves at `/`. `npx vite --config web/vite.config.ts` serves it with
 * hot reload and forwards /graphql to a server on port 4000.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  clearScreen: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // vega and vega-lite are one large chunk by nature; the dashboard is local
    chunkSizeWarningLimit: 3000,
  },
  // changeOrigin: the server answers only requests that name it in their Host header
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', changeOrigin: true } } },
});
