import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { precompressPlugin } from "./scripts/precompress";

// In development Vite serves the app and hands the API to the Parley server.
const apiTarget = process.env.PARLEY_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  // precompress: .br and .gz copies of the text files, served by apps/server to clients that take them.
  plugins: [react(), precompressPlugin()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No source maps in the served build: they would publish the app's source (the server refuses *.map too).
    sourcemap: false,
  },
  server: {
    proxy: {
      "/trpc": { target: apiTarget, ws: true, changeOrigin: true },
      "/healthz": { target: apiTarget, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      "/trpc": { target: apiTarget, ws: true, changeOrigin: true },
      "/healthz": { target: apiTarget, changeOrigin: true },
    },
  },
});
