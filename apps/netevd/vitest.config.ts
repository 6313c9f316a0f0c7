import { projectTestConfig } from '../../vitest.shared.js';

// Root suites build namespaces and run real scripts: one file at a time (2 shared cores).
export default projectTestConfig(import.meta.dirname, { fileParallelism: false });
