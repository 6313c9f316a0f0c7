import { mergeConfig } from 'vitest/config';
import { projectTestConfig } from '../vitest.shared.js';

// End-to-end scenarios: root, real processes in network namespaces. One file at a time
// (they share 2 cores and measure timing-sensitive things), generous timeouts, and a global
// teardown that collects any lab a crashed worker left behind.
export default mergeConfig(projectTestConfig(import.meta.dirname, { include: ['test/**/*.e2e.test.ts'], testTimeout: 120_000, fileParallelism: false }), {
  test: { globalSetup: ['test/global-setup.ts'], hookTimeout: 60_000 },
});
