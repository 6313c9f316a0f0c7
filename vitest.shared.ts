// Shared vitest settings for every project. Workspace packages resolve to their TypeScript
// sources through the "@edgebox/source" export condition, so tests never need a build.
import { defineConfig } from 'vitest/config';

const conditions = ['@edgebox/source', 'module', 'node', 'development|production'];

export interface ProjectTestOptions {
  /** Extra include globs (default: test/**\/*.test.ts). */
  include?: string[];
  /** Per-test timeout in ms (default 20 s). */
  testTimeout?: number;
  /** Files that must not run in parallel with each other (e.g. root-only network tests). */
  fileParallelism?: boolean;
}

export function projectTestConfig(root: string, options: ProjectTestOptions = {}) {
  return defineConfig({
    root,
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@edgebox/source'] } },
    test: {
      include: options.include ?? ['test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: 30_000,
      fileParallelism: options.fileParallelism ?? true,
      pool: 'forks',
      // The JSON report feeds the one-line summary printed by tools/scripts/run-tests.mjs.
      reporters: ['default', 'json'],
      outputFile: { json: 'test-results/vitest.json' },
      coverage: {
        provider: 'v8',
        include: ['src/**/*.ts'],
        reporter: ['text-summary', 'json-summary'],
        reportsDirectory: 'coverage',
      },
    },
  });
}
