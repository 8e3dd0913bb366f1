import { defineConfig } from "vite";

// The bundle is served by the FastAPI app from api/static (no CDN: everything is in it).
export default defineConfig({
  base: "/",
  build: {
    outDir: "../api/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  // `npm run dev` serves the sources and forwards GraphQL to a running service (LINEAGE_URL).
  server: { proxy: { "/graphql": process.env.LINEAGE_URL ?? "http://127.0.0.1:8642" } },
});
