import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/**/*.test.ts',
            'monitor/**/*.test.ts',
            'agent/**/*.test.ts',
            'clients/**/*.test.ts',
          ],
          exclude: ['test/worker/**', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
        test: {
          name: 'dashboard',
          environment: 'happy-dom',
          include: ['dashboard/src/**/*.test.{ts,tsx}'],
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            main: './functions/worker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                LOG_CENTER_API_TOKEN: 'worker-test-token',
                GITEA_WEBHOOK_SECRET: 'worker-gitea-secret',
                DEPLOY_WEBHOOK_SECRET: 'worker-deploy-secret',
                TEST_MIGRATIONS: await readD1Migrations('./schema/migrations'),
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['./test/worker/apply-migrations.ts'],
        },
      },
    ],
  },
});
