/**
 * @edgebox/netevd: the network event daemon as a library (ARCHITECTURE.md rule 2).
 *
 * - `createNetevdService()`: the Service the CLI and the supervisor host: sources (netlink
 *   built in; networkd and NetworkManager over DBus) publish @edgebox/events v1 events on its
 *   bus; scripts run per state; per-interface policy routing is reconciled.
 * - `NetevdConfigSchema`, `validate()`: the `netevd` config section.
 * - Building blocks: `createNetlinkSource`, `createDispatcher`, `runScript`, `scriptEnv`,
 *   `listScripts`, `createPolicyRouting`, `openTableStore`, `startApi`.
 *
 * @example
 * import { createNetevdService } from '@edgebox/netevd';
 * const netevd = createNetevdService();
 * await netevd.start({ backends: ['netlink'], scripts: { dir: '/etc/netevd' } });
 * for await (const { event } of netevd.bus.subscribe({ filter: 'kind == link.state' })) console.log(event.interface, event.states);
 */
export { NETEVD_ERROR_CODES, NetevdError, isNetevdError, type NetevdErrorCode, type NetevdErrorOptions } from './errors.js';
export * from './constants.js';
export { BACKENDS, NetevdConfigSchema, isLoopback, parseConfig, validate, type Backend, type NetevdConfig, type NetevdConfigInput, type RoutedInterfaceConfig } from './config.js';
export { createNetevdService, type EventSourceHandle, type NetevdEvents, type NetevdService, type NetevdServiceInit, type NetevdStatus, type SourceFactory, type SourceInit, type SourceStatus } from './service.js';
export { createDhclientSource, parseLeases, type DhcpLease, type DhclientSource, type DhclientSourceInit } from './sources/dhclient.js';
export { createNetlinkSource, linkState, snapshotFrom, type LinkOperState, type NetlinkInterface, type NetlinkSource, type NetlinkSourceInit, type NetlinkSourceStats } from './sources/netlink.js';
export { createDispatcher, dispatchKey, type DeadLetter, type Dispatcher, type DispatcherInit, type DispatchStats, type RunReport } from './dispatch.js';
export { runScript, type RunScriptInit, type ScriptResult } from './script-runner.js';
export { SCRIPT_PATH, assertRunnable, folderOf, listAllScripts, listScripts, scriptEnv, scriptProblem, type ScriptEnv, type ScriptInfo } from './scripts.js';
export { canonicalIp, checkTable, createPolicyRouting, isRoutableAddress, openTableStore, type PolicyRoute, type PolicyRouting, type PolicyRoutingInit, type PolicyRule, type ReconcileResult, type RoutingInterface, type TableStore } from './routing.js';
export { createInterfaceTable, MAX_INTERFACES, type InterfaceTable, type InterfaceView } from './interfaces.js';
export { startApi, type ApiInit, type ApiServer } from './api.js';
export { ipJson, runIp, type IpOptions, type IpRunner } from './ip-command.js';
export { NETEVD_USAGE, formatTable, runNetevdCli, type NetevdHost, type NetevdIo } from './cli.js';
