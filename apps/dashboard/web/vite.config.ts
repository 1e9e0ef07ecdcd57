import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// One classic-script bundle (IIFE) + one CSS file, so the same build serves from the dashboard's server and opens
// from disk in a static export (module scripts are refused on file:// URLs). The HTML page is written by the server
// and the exporter (src/server/index-html.ts), not by vite.
const webRoot = fileURLToPath(new URL(".", import.meta.url));
export default defineConfig({
  root: webRoot,
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    lib: {
      entry: fileURLToPath(new URL("./src/main.tsx", import.meta.url)),
      name: "DifflensDashboard",
      formats: ["iife"],
      fileName: () => "dashboard.js",
      cssFileName: "dashboard",
    },
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
  },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
});
