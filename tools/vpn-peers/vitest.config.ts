import { projectTestConfig } from '../../vitest.shared.js';

// Root-only network tests: one file at a time (they measure throughput and share 2 cores).
export default projectTestConfig(import.meta.dirname, { testTimeout: 60_000, fileParallelism: false });
