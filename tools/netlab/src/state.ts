/**
 * Per-run state files (`/run/edgebox-netlab/<runid>.json`) and the garbage collector that
 * reads them. A lab writes its state file BEFORE creating any namespace, so a process that
 * dies at any point leaves a record naming everything it may have created. `gc` removes the
 * leftovers of runs whose owner process is gone (PID dead, or PID reused by another process:
 * the owner's start time is recorded too), and never touches a live owner's lab unless asked
 * to collect the calling process's own runs.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run.js';

/** Where state files live unless EDGEBOX_NETLAB_STATE_DIR says otherwise. */
export const DEFAULT_STATE_DIR = '/run/edgebox-netlab';
/** Every lab namespace starts with this prefix: `ebx-<runid>-<node>`. */
export const NAMESPACE_PREFIX = 'ebx-';

/** What a state file records about one run. */
export interface RunState {
  runId: string;
  ownerPid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), or null where /proc lacks it. */
  ownerStartTime: string | null;
  createdAt: string;
  namespaces: string[];
}

/** The state directory in use (EDGEBOX_NETLAB_STATE_DIR overrides the default). */
export function stateDir(): string {
  return process.env.EDGEBOX_NETLAB_STATE_DIR ?? DEFAULT_STATE_DIR;
}

/** Start time of a process from /proc, or null if it does not exist (or /proc is absent). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** True while the process that wrote `state` is still the same running process. */
export function isOwnerAlive(state: Pick<RunState, 'ownerPid' | 'ownerStartTime'>): boolean {
  try {
    process.kill(state.ownerPid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else: alive.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (state.ownerStartTime === null) return true;
  const now = processStartTime(state.ownerPid);
  return now === null || now === state.ownerStartTime;
}

/** Atomically (write + rename) records `state`. */
export function writeRunState(state: RunState): void {
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, `${state.runId}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removes the state file of `runId` (no error if it is already gone). */
export function removeRunState(runId: string): void {
  rmSync(join(stateDir(), `${runId}.json`), { force: true });
}

/** One entry of {@link listRuns}. */
export interface RunInfo extends RunState {
  ownerAlive: boolean;
  file: string;
}

/**
 * Every run recorded in the state directory, with whether its owner still lives.
 *
 * @example
 * for (const run of listRuns()) console.log(run.runId, run.ownerAlive ? 'live' : 'dead');
 */
export function listRuns(): RunInfo[] {
  const dir = stateDir();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^[0-9a-f]+\.json$/.test(n));
  } catch {
    return [];
  }
  const runs: RunInfo[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as RunState;
      if (typeof state.runId !== 'string' || typeof state.ownerPid !== 'number' || !Array.isArray(state.namespaces)) continue;
      runs.push({ ...state, ownerAlive: isOwnerAlive(state), file });
    } catch {
      // A half-written or foreign file: leave it alone rather than guess.
    }
  }
  return runs;
}

/** Names of all network namespaces (`ip netns list`, ids stripped). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/**
 * Kills every process inside `ns` (by PID, from `ip netns pids`) and deletes the namespace.
 * Processes keep a namespace (and its veth ends) alive after `ip netns del`, so they go first.
 */
export async function removeNamespace(ns: string): Promise<void> {
  const pids = await runCommand('ip', ['netns', 'pids', ns], { check: false });
  for (const text of pids.stdout.split('\n')) {
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  const res = await runCommand('ip', ['netns', 'del', ns], { check: false });
  if (res.code !== 0 && !/No such file|not found|Cannot remove/i.test(res.stderr)) {
    await runCommand('ip', ['netns', 'del', ns]);
  }
}

/** Options of {@link gc}. */
export interface GcOptions {
  /** Also collect runs owned by this very process (a test's afterAll after a failure). */
  own?: boolean;
  /** Only consider these run ids. */
  runIds?: readonly string[];
}

/** What {@link gc} removed. */
export interface GcResult {
  runs: string[];
  namespaces: string[];
}

/**
 * Removes namespaces and state files of runs whose owner died (and, with `own`, of this
 * process's runs). Live labs of other processes are never touched.
 *
 * @example
 * afterAll(async () => { await lab?.destroy(); await gc({ own: true }); });
 */
export async function gc(options: GcOptions = {}): Promise<GcResult> {
  const existing = new Set(await listNamespaces());
  const result: GcResult = { runs: [], namespaces: [] };
  for (const run of listRuns()) {
    if (options.runIds !== undefined && !options.runIds.includes(run.runId)) continue;
    const own = run.ownerPid === process.pid && run.ownerStartTime === processStartTime(process.pid);
    if (run.ownerAlive && !(own && options.own === true)) continue;
    for (const ns of run.namespaces) {
      // Only names this run could have created: a corrupted file must not delete others' namespaces.
      if (!ns.startsWith(`${NAMESPACE_PREFIX}${run.runId}-`) || !existing.has(ns)) continue;
      await removeNamespace(ns);
      result.namespaces.push(ns);
    }
    removeRunState(run.runId);
    result.runs.push(run.runId);
  }
  return result;
}
