/**
 * The appliance config (ARCHITECTURE.md rule 4): one YAML document with a `supervisor` section
 * and one section per app. Each app section is validated by that app's own schema (loaded from
 * the app package), so an error names the full path (`tunnel.pki.ca`), the value and what was
 * expected, exactly as the app's own CLI would. A section that is absent means the app is not
 * configured; `supervisor.apps.<app>.enabled: false` switches a configured app off.
 *
 *   supervisor:
 *     api:      { host: 127.0.0.1, port: 9400 }
 *     auth:     { requireKeys: false }      # true: even loopback requests need a key
 *     dataDir:  /var/lib/edgebox            # keys, audit log, generated PKI, app state
 *     stopDeadlineMs, restart: { minMs, maxMs, crashLoopMax, crashLoopWindowMs }
 *     apps:     { tunnel: { enabled: true } }
 *   bonding: ...   tunnel: ...   netevd: ...   p2p: ...
 */
import { ConfigError, loadConfig, validateConfig } from '@edgebox/runtime';
import type { ConfigIssue } from '@edgebox/runtime';
import { z } from 'zod';
import {
  API_HOST,
  API_PORT,
  APP_NAMES,
  CRASH_LOOP_MAX,
  CRASH_LOOP_WINDOW_MS,
  RESTART_MAX_MS,
  RESTART_MIN_MS,
  STOP_DEADLINE_MS,
} from '../constants.js';
import type { AppName } from '../constants.js';
import { loadSchema, rootNeed } from '../hosting/app-catalog.js';

const AppSwitchSchema = z.strictObject({ enabled: z.boolean().default(true) });

/** The `supervisor` section. */
export const SupervisorSectionSchema = z.strictObject({
  api: z
    .strictObject({
      host: z.string().min(1).default(API_HOST),
      port: z.int().min(0).max(65535).default(API_PORT),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Require an API key even on loopback (off the loopback keys are always required). */
      requireKeys: z.boolean().default(false),
    })
    .prefault({}),
  /** Keys, audit log, generated PKI and app state; default: per user (see defaultDataDir). */
  dataDir: z.string().min(1).optional(),
  stopDeadlineMs: z.int().min(100).max(600_000).default(STOP_DEADLINE_MS),
  restart: z
    .strictObject({
      minMs: z.int().min(10).max(600_000).default(RESTART_MIN_MS),
      maxMs: z.int().min(10).max(3_600_000).default(RESTART_MAX_MS),
      /** More crashes than this within the window: the app stays down (crash-loop). */
      crashLoopMax: z.int().min(1).max(1000).default(CRASH_LOOP_MAX),
      crashLoopWindowMs: z.int().min(1000).max(86_400_000).default(CRASH_LOOP_WINDOW_MS),
    })
    .prefault({}),
  apps: z
    .strictObject({
      bonding: AppSwitchSchema.prefault({}),
      tunnel: AppSwitchSchema.prefault({}),
      netevd: AppSwitchSchema.prefault({}),
      p2p: AppSwitchSchema.prefault({}),
    })
    .prefault({}),
});

/** The validated `supervisor` section. */
export type SupervisorSection = z.infer<typeof SupervisorSectionSchema>;

/** The document's shape: the supervisor section plus the app sections (each checked by its app). */
export const ApplianceShapeSchema = z.strictObject({
  supervisor: SupervisorSectionSchema.prefault({}),
  bonding: z.unknown().optional(),
  tunnel: z.unknown().optional(),
  netevd: z.unknown().optional(),
  p2p: z.unknown().optional(),
});

/** A validated appliance config. */
export interface ApplianceConfig {
  supervisor: SupervisorSection & { dataDir: string };
  /** Validated app sections (output shape, defaults applied); absent = not configured. */
  apps: Partial<Record<AppName, unknown>>;
  /** The app sections as written (input shape): what a child's Service.start receives. */
  documents: Partial<Record<AppName, unknown>>;
  /** The whole document as given (after env overrides). */
  document: Record<string, unknown>;
}

/** Where an app stands before anything runs: enabled, or disabled with the reason. */
export interface AppPlan {
  app: AppName;
  enabled: boolean;
  /** `disabled: needs root`, `disabled: not configured`, `disabled: switched off`. */
  reason: string | null;
}

/**
 * Per-user default data dir: /var/lib/edgebox as root, else $XDG_STATE_HOME/edgebox or
 * ~/.local/state/edgebox.
 *
 * @example defaultDataDir({ HOME: '/home/ann' }, 1000); // '/home/ann/.local/state/edgebox'
 */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>, uid: number): string {
  if (uid === 0) return '/var/lib/edgebox';
  const state = env['XDG_STATE_HOME'] ?? `${env['HOME'] ?? '/tmp'}/.local/state`;
  return `${state}/edgebox`;
}

/**
 * Validates a whole appliance document: its shape, then every app section with that app's
 * schema. Every issue of every section is collected into one ConfigError
 * (`RUNTIME_CONFIG_INVALID`, details.issues with paths like `tunnel.pki.ca`).
 *
 * @example
 * const config = await validateAppliance(YAML.parse(text), { env: process.env, uid: 1000 });
 */
export async function validateAppliance(
  document: unknown,
  init: { label?: string; env?: Readonly<Record<string, string | undefined>>; uid?: number } = {},
): Promise<ApplianceConfig> {
  const label = init.label ?? 'appliance config';
  const issues: ConfigIssue[] = [];
  let shape: z.infer<typeof ApplianceShapeSchema> | undefined;
  try {
    shape = await validateConfig(ApplianceShapeSchema, document ?? {}, { label });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const doc = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const apps: Partial<Record<AppName, unknown>> = {};
  const documents: Partial<Record<AppName, unknown>> = {};
  for (const app of APP_NAMES) {
    const section = doc[app];
    if (section === undefined || section === null) continue;
    try {
      apps[app] = await validateConfig(await loadSchema(app), section, { label, section: app });
      documents[app] = section;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0 || shape === undefined) {
    const message = issues.length === 1 ? `${label} is invalid: ${issues[0]!.message}` : `${label} is invalid (${issues.length} issues): ${issues.map((i) => i.message).join('; ')}`;
    throw new ConfigError('RUNTIME_CONFIG_INVALID', message, { issues });
  }
  const dataDir = shape.supervisor.dataDir ?? defaultDataDir(init.env ?? process.env, init.uid ?? process.getuid?.() ?? 0);
  return { supervisor: { ...shape.supervisor, dataDir }, apps, documents, document: doc };
}

/**
 * Reads and validates the appliance config file (YAML/JSON/TOML by extension, env overrides
 * `EDGEBOX_<SECTION>__<KEY>`), or the given document when there is no file.
 *
 * @example const config = await loadAppliance({ file: '/etc/edgebox/edgebox.yaml' });
 */
export async function loadAppliance(init: { file?: string; value?: unknown; env?: Readonly<Record<string, string | undefined>>; uid?: number }): Promise<ApplianceConfig> {
  const env = init.env ?? process.env;
  // The shape schema lets env overrides reach the supervisor section; app sections are checked after.
  const loaded = await loadConfig({ schema: z.unknown(), ...(init.file !== undefined ? { file: init.file } : { value: init.value ?? {} }), env });
  return validateAppliance(loaded.document, { label: init.file === undefined ? 'appliance config' : `config file ${init.file}`, env, ...(init.uid === undefined ? {} : { uid: init.uid }) });
}

/**
 * What runs and what does not, and why: not configured, switched off, or needs root.
 *
 * @example planApps(config, { isRoot: false }).find((p) => p.app === 'bonding')?.reason; // 'disabled: needs root ...'
 */
export function planApps(config: ApplianceConfig, init: { isRoot: boolean }): AppPlan[] {
  return APP_NAMES.map((app) => {
    if (config.apps[app] === undefined) return { app, enabled: false, reason: `disabled: not configured (no ${app} section)` };
    if (!config.supervisor.apps[app].enabled) return { app, enabled: false, reason: `disabled: switched off (supervisor.apps.${app}.enabled: false)` };
    const need = rootNeed(app, config.apps[app]);
    if (need !== null && !init.isRoot) return { app, enabled: false, reason: `disabled: needs root (${need})` };
    return { app, enabled: true, reason: null };
  });
}
