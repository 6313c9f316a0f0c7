/**
 * The administrator's scripts: which ones an event runs, whether each may run, and the
 * environment it gets.
 *
 *   folder   `<dir>/<state>.d/` for a `link.state` event's new state (carrier, no-carrier,
 *            configured, degraded, routable, activated, disconnected, ...); `<dir>/routes.d/`
 *            for `route.changed`
 *   order    file names sorted by their UTF-16 code units (`10-a` before `20-b` before `a`)
 *   safety   a regular file (symlinks refused: the target could be swapped), executable by its
 *            owner, owned by root (`scripts.ownerUid`), not writable by group or other, in a
 *            `<state>.d` folder that is a real directory with the same owner and no group/other
 *            write (else someone could swap a checked file before it runs); anything else is
 *            listed with its problem and never run
 *   env      cleared: PATH plus LINK, LINKINDEX, STATE, OLDSTATE, BACKEND, ADDRESSES, JSON,
 *            each validated. A value that fails (an interface named `$(reboot)`, an address
 *            that is not one) is dropped, never passed: LINK and JSON are left out for a
 *            hostile name, a bad address is left out of ADDRESSES and JSON.
 *
 * Scripts run without a shell (script-runner.ts), so a file name with shell metacharacters is
 * only a name.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isAddress } from '@edgebox/events';
import type { EventV1 } from '@edgebox/events';
import { SAFE_IFNAME } from './constants.js';
import { NetevdError } from './errors.js';

/** One script file as listed. */
export interface ScriptInfo {
  /** The state folder name without `.d` (`routable`, `routes`). */
  state: string;
  name: string;
  path: string;
  /** True when it passes every safety check. */
  runnable: boolean;
  /** Why it will not run. */
  problem: string | null;
  mode: string | null;
  uid: number | null;
}

/** The fixed PATH scripts get. */
export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const STATE_RE = /^[a-z][a-z0-9-]{0,31}$/;
const BACKEND_RE = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_JSON_BYTES = 32 * 1024;

/**
 * The folder an event's scripts live in (without `.d`), or undefined when it runs none.
 *
 * @example folderOf(event); // 'routable' for link.state {new: routable}, 'routes' for route.changed
 */
export function folderOf(event: EventV1): string | undefined {
  if (event.kind.startsWith('route.')) return 'routes';
  const state = event.states?.new;
  if (state === undefined || !STATE_RE.test(state)) return undefined;
  return state;
}

/**
 * Why `path` may not run, or null when it may.
 *
 * @example const problem = await scriptProblem('/etc/netevd/routable.d/10-rules', 0);
 */
export async function scriptProblem(path: string, ownerUid: number): Promise<{ problem: string | null; mode: number | null; uid: number | null }> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    return { problem: `cannot stat: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, mode: null, uid: null };
  }
  const mode = st.mode & 0o7777;
  if (st.isSymbolicLink()) return { problem: 'a symbolic link (expected a regular file)', mode, uid: st.uid };
  if (!st.isFile()) return { problem: 'not a regular file', mode, uid: st.uid };
  if (st.uid !== ownerUid) return { problem: `owned by uid ${st.uid} (expected ${ownerUid})`, mode, uid: st.uid };
  if ((mode & 0o022) !== 0) return { problem: `mode ${mode.toString(8).padStart(4, '0')} is group or other writable (expected no g+w, o+w)`, mode, uid: st.uid };
  if ((mode & 0o100) === 0) return { problem: `mode ${mode.toString(8).padStart(4, '0')} is not executable by its owner`, mode, uid: st.uid };
  return { problem: null, mode, uid: st.uid };
}

/** Why scripts in `folder` may not run (a symlink, another owner, group/other writable), or null. */
async function dirProblem(folder: string, ownerUid: number): Promise<string | null> {
  try {
    const st = await lstat(folder);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink() || !st.isDirectory()) return `folder ${folder} is not a real directory`;
    if (st.uid !== ownerUid) return `folder ${folder} is owned by uid ${st.uid} (expected ${ownerUid})`;
    if ((mode & 0o022) !== 0) return `folder ${folder} mode ${mode.toString(8).padStart(4, '0')} is group or other writable`;
    return null;
  } catch (err) {
    return `folder ${folder}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

/**
 * Throws NETEVD_SCRIPT_UNSAFE unless `path` may run.
 *
 * @example await assertRunnable('/etc/netevd/routable.d/10-rules', 0);
 */
export async function assertRunnable(path: string, ownerUid: number): Promise<void> {
  const { problem } = await scriptProblem(path, ownerUid);
  if (problem !== null) throw new NetevdError('NETEVD_SCRIPT_UNSAFE', `script ${path} will not run: ${problem}`, { details: { path, problem } });
}

/**
 * The scripts of one state folder, sorted, each with its safety verdict. A missing folder is
 * an empty list.
 *
 * @example for (const s of await listScripts('/etc/netevd', 'routable', 0)) if (s.runnable) run(s.path);
 */
export async function listScripts(dir: string, state: string, ownerUid: number): Promise<ScriptInfo[]> {
  const folder = join(dir, `${state}.d`);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const folderProblem = await dirProblem(folder, ownerUid);
  const out: ScriptInfo[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue; // editor swap files, dotfiles
    const path = join(folder, name);
    const checked = await scriptProblem(path, ownerUid);
    const { mode, uid } = checked;
    const problem = folderProblem ?? checked.problem;
    out.push({ state, name, path, runnable: problem === null, problem, mode: mode === null ? null : mode.toString(8).padStart(4, '0'), uid });
  }
  return out;
}

/**
 * Every script under every `<state>.d` folder of `dir`.
 *
 * @example const all = await listAllScripts('/etc/netevd', 0);
 */
export async function listAllScripts(dir: string, ownerUid: number): Promise<ScriptInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const states = entries.filter((e) => e.endsWith('.d') && STATE_RE.test(e.slice(0, -2))).map((e) => e.slice(0, -2)).sort();
  const out: ScriptInfo[] = [];
  for (const s of states) out.push(...(await listScripts(dir, s, ownerUid)));
  return out;
}

/** What scriptEnv built, and what it refused. */
export interface ScriptEnv {
  env: Record<string, string>;
  /** Variable names left out because their value failed validation (logged by the caller). */
  dropped: string[];
}

/**
 * The cleared, validated environment of a script run for `event`.
 *
 * @example
 * const { env, dropped } = scriptEnv(event);
 * // env.LINK 'eth0', env.STATE 'routable', env.ADDRESSES '10.0.0.2/24 fe80::1/64', env.JSON '{...}'
 */
export function scriptEnv(event: EventV1): ScriptEnv {
  const env: Record<string, string> = { PATH: SCRIPT_PATH };
  const dropped: string[] = [];
  const data = event.data as Record<string, unknown>;
  const iface = event.interface;
  const safeName = iface === undefined || SAFE_IFNAME.test(iface);
  if (iface !== undefined) {
    if (safeName) env.LINK = iface;
    else dropped.push('LINK');
  }
  const ifindex = data['ifindex'];
  if (typeof ifindex === 'number' && Number.isSafeInteger(ifindex) && ifindex > 0) env.LINKINDEX = String(ifindex);
  else if (ifindex !== undefined) dropped.push('LINKINDEX');
  const state = event.states?.new;
  if (state !== undefined) {
    if (STATE_RE.test(state)) env.STATE = state;
    else dropped.push('STATE');
  }
  const old = event.states?.old;
  if (old !== undefined) {
    if (STATE_RE.test(old)) env.OLDSTATE = old;
    else dropped.push('OLDSTATE');
  }
  const backend = data['backend'];
  if (typeof backend === 'string' && BACKEND_RE.test(backend)) env.BACKEND = backend;
  else if (backend !== undefined) dropped.push('BACKEND');
  const addresses: string[] = [];
  for (const a of event.addresses ?? []) {
    // isAddress is strict (digits, dots, colons, hex, %zone, /prefix), and a zone must be a safe name too.
    const zone = a.indexOf('%');
    if (isAddress(a) && (zone < 0 || SAFE_IFNAME.test(a.slice(zone + 1).split('/')[0]!))) addresses.push(a);
    else if (!dropped.includes('ADDRESSES(item)')) dropped.push('ADDRESSES(item)');
  }
  if (event.addresses !== undefined) env.ADDRESSES = addresses.join(' ');
  if (safeName) {
    const json = JSON.stringify({ ...event, ...(event.addresses === undefined ? {} : { addresses }) });
    if (Buffer.byteLength(json) <= MAX_JSON_BYTES) env.JSON = json;
    else {
      const lean = JSON.stringify({ ...event, data: {}, ...(event.addresses === undefined ? {} : { addresses }) });
      if (Buffer.byteLength(lean) <= MAX_JSON_BYTES) env.JSON = lean;
      else dropped.push('JSON');
    }
  } else {
    dropped.push('JSON');
  }
  // Belt and braces: execve refuses NUL; nothing we pass may hold one.
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v.includes('\0')) dropped.push(k);
    else clean[k] = v;
  }
  return { env: clean, dropped };
}
