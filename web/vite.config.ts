import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath, URL } from 'node:url'

// `npm run dev` proxies the API to a `shiyu serve` on :8000; the build is served by shiyu itself.
const api = process.env.SHIYU_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy: { '/api': api, '/openapi.json': api } },
  build: {
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // big libraries in their own long-cached files, loaded only by the pages that use them
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts'
          // a classic plugin that needs the global L: its own chunk, run after leaflet is set up
          if (id.includes('node_modules/leaflet.heat')) return 'leaflet-heat'
          if (id.includes('node_modules/leaflet')) return 'leaflet'
          return undefined
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
  },
})
