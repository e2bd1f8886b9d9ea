import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` turns schema changes into a new SQL migration; `npm run db:check` (part of
// `npm test`) fails when the schema and the committed migrations disagree.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/db/schema.ts', './src/platform/channels/schema.ts', './src/apps/*/schema.ts'],
  out: process.env.DRIZZLE_OUT ?? './src/platform/db/migrations',
});
