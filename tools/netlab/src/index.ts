/**
 * @edgebox/netlab: declarative network-namespace topologies for tests and benchmarks.
 * Nodes are namespaces, links are veth pairs, impairments are tc tbf (rate), nftables
 * numgen drops (loss) and `ip link set down` (cuts). See README.md.
 */
export * from './errors.js';
export { createLab, rootStatus, assertRoot, NFT_TABLE, KILL_GRACE_MS } from './lab.js';
export type { Lab, LabInfo, LinkEndInfo, LinkSide, SideSelector, CreateLabOptions, LabSpawnOptions, RootStatus } from './lab.js';
export { parseSpec, loadSpecFile, labSpecSchema, parseCidr, MAX_IFNAME_LENGTH, MAX_NODE_NAME_LENGTH } from './spec.js';
export type { LabSpec, LabSpecInput, LinkSpec, LinkEndSpec, RouteSpec } from './spec.js';
export { gc, listRuns, listNamespaces, stateDir, DEFAULT_STATE_DIR, NAMESPACE_PREFIX } from './state.js';
export type { GcOptions, GcResult, RunInfo, RunState } from './state.js';
export { runCommand, describeCommand, TOOL_PACKAGES } from './run.js';
export type { ExecOptions, ExecResult } from './run.js';
