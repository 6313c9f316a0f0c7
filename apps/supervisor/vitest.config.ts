import { projectTestConfig } from '../../vitest.shared.js';

// Network tests (libp2p on loopback and the memory transport) share 2 cores with other
// projects: one file at a time keeps handshake timeouts far from the machine's load.
export default projectTestConfig(import.meta.dirname, { testTimeout: 60_000, fileParallelism: false });
