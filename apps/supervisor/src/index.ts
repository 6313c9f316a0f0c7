/**
 * @edgebox/supervisor: the appliance (issue 7). It hosts bonding, tunnel, netevd and p2p, each
 * in its own child process, behind one admin API, one /metrics and one event stream.
 *
 * - `createSupervisor()` (hosting/supervisor.ts): the core; `createAdminApi()` (api/): the
 *   NestJS admin API over it; `runEdgeboxCli()` (cli.ts): the `edgebox` command.
 * - `loadAppliance()` / `validateAppliance()`: the appliance config, each app section validated
 *   by the app's own schema; `defaultApplianceDocument()`: the embedded default.
 *
 * @example
 * import { createAdminApi, createSupervisor, loadAppliance } from '@edgebox/supervisor';
 * const supervisor = createSupervisor({ config: await loadAppliance({ file: 'edgebox.yaml' }) });
 * await supervisor.start();
 * const api = await createAdminApi({ supervisor });
 * console.log(`${api.url}/api/v1/status`);
 */
export { SUPERVISOR_ERROR_CODES, SUPERVISOR_ERROR_STATUS, SupervisorError, httpStatusOf, isSupervisorError, type SupervisorErrorCode, type SupervisorErrorOptions } from './errors.js';
export * from './constants.js';
export {
  ApplianceShapeSchema,
  SupervisorSectionSchema,
  defaultDataDir,
  loadAppliance,
  planApps,
  validateAppliance,
  type ApplianceConfig,
  type AppPlan,
  type SupervisorSection,
} from './config/appliance-config.js';
export { defaultApplianceDocument, defaultApplianceYaml } from './config/default-config.js';
export { ensureTunnelPki } from './config/tunnel-pki.js';
export { APP_RESOURCES, rootNeed } from './hosting/app-catalog.js';
export { AppProcess, type AppState, type AppStatus, type ChildSpawnSpec, type RestartPolicy } from './hosting/app-process.js';
export { createSupervisor, defaultSpawnSpec, type ApplianceStatus, type ApplyOutcome, type ApplyResult, type Supervisor, type SupervisorInit } from './hosting/supervisor.js';
export { createAdminApi, isLoopbackHost, CONTROLLERS, type AdminApi, type AdminApiInit } from './api/admin-api.js';
export { openKeyStore, keyFileOf, ROLES, type KeyInfo, type KeyStore, type Principal, type Role } from './auth/key-store.js';
export { openAuditLog, auditFileOf, type AuditEntry } from './auth/audit-log.js';
export { runEdgeboxCli, formatAppsTable, resolveConfigFile, EDGEBOX_USAGE, type EdgeboxIo } from './cli.js';
