import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The built app is served by the Python BFF from frontend/dist at `/`, on the same
// origin as /api. `base: './'` keeps asset URLs relative so the BFF may also mount it
// under a prefix. In development, `npm run dev` proxies /api (including the SSE stream)
// to the BFF on 127.0.0.1:8000 (override with GREENAI_BFF_URL). The proxy keeps the
// browser's Host header (no changeOrigin): the BFF refuses a sign-in or a change whose
// Origin is not its own host (bff/deps.py same_origin), and the session cookie is set for
// the page's host.
const bff = process.env.GREENAI_BFF_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: bff, changeOrigin: false },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
