/**
 * Uplink discovery: which interfaces can carry a link, noticed as they come and go.
 *
 *   trigger   one long-lived `ip -o monitor link address route` (netlink, no polling). Its
 *             lines are only counted, never parsed: any line means "something changed".
 *   re-read   `ip -j addr show` + `ip -j -4/-6 route show default`, at most once per debounce
 *             window (default 75 ms) however many lines arrive, plus one trailing read when
 *             lines arrive during a read. uplink-snapshot.ts turns the reads into candidates
 *             and the difference into `added` / `removed` / `changed` events.
 *   restart   if the monitor dies it is restarted (backoff 250 ms doubling to 5 s, reset by
 *             its next line) and a re-read follows, since events may have been missed.
 *
 * The monitor starts before the first read, so nothing between the two is lost. stop() kills
 * the monitor by its PID, clears the timers and removes every listener.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LinksError } from './errors.js';
import { compileGlob } from './glob.js';
import { checkNetns, ipArgs, runIpJson } from './ip-command.js';
import { buildSnapshot, diffSnapshots, type IpAddrJson, type IpRouteJson, type UplinkCandidate, type UplinkEvent, type UplinkFilters } from './uplink-snapshot.js';

/** Default debounce between the first monitor line and the re-read. */
export const DISCOVERY_DEBOUNCE_MS = 75;
/** First restart delay of a dead monitor (doubles up to DISCOVERY_RESTART_MAX_MS). */
export const DISCOVERY_RESTART_MS = 250;
/** Longest restart delay of a dead monitor. */
export const DISCOVERY_RESTART_MAX_MS = 5000;

/** Options of {@link createLinkDiscovery}. */
export interface LinkDiscoveryInit {
  /** Interface globs (`*`, `?`, `[a-z]`); when given, only matching interfaces are candidates. */
  include?: readonly string[];
  /** Interface globs never to use (e.g. the bond's own TUN device). Loopback never is. */
  exclude?: readonly string[];
  /** `{pattern: label}`: the first matching pattern (in insertion order) labels the uplink. */
  labels?: Readonly<Record<string, string>>;
  /** Named network namespace to watch (`ip -n`). */
  netns?: string;
  /** Debounce window in ms (1..1000, default 75). */
  debounceMs?: number;
}

/** Discovery counters. */
export interface LinkDiscoveryStats {
  /** Snapshot reads done (the first one included). */
  rereads: number;
  /** Lines the monitor printed (each one a trigger). */
  monitorLines: number;
  /** Times the monitor died and was restarted. */
  monitorRestarts: number;
  /** Failed reads or monitor starts (each also reported to `error` listeners). */
  errors: number;
}

type EventName = UplinkEvent['type'];
type UplinkListener = (event: UplinkEvent) => void;
type ErrorListener = (error: LinksError) => void;

/** A running discovery created by {@link createLinkDiscovery}. */
export interface LinkDiscovery {
  /** Starts the monitor, reads once, emits `added` for every current candidate, resolves with them. */
  start(): Promise<UplinkCandidate[]>;
  /** Kills the monitor, cancels pending reads, removes every listener. Safe to call twice. */
  stop(): Promise<void>;
  /** Subscribes to `added`, `removed` or `changed`; returns the unsubscribe function. */
  on(event: EventName, listener: UplinkListener): () => void;
  /** Subscribes to errors (a failed re-read, a monitor that cannot start); discovery keeps going. */
  on(event: 'error', listener: ErrorListener): () => void;
  /** The current candidates. */
  candidates(): UplinkCandidate[];
  /** Re-reads now (bypassing the debounce). */
  refresh(): Promise<void>;
  readonly stats: LinkDiscoveryStats;
  /** PID of the running `ip monitor`, if any. */
  readonly monitorPid: number | undefined;
}

/**
 * Creates an uplink discovery (call start()).
 *
 * @example
 * const discovery = createLinkDiscovery({ include: ['eth*', 'wwan*'], exclude: ['bond*'], labels: { 'wwan*': 'lte', 'eth*': 'fiber' } });
 * discovery.on('added', ({ uplink }) => addLink(uplink));
 * discovery.on('removed', ({ uplink }) => removeLink(uplink.name));
 * discovery.on('changed', ({ uplink, changes }) => updateLink(uplink, changes));
 * await discovery.start();
 * // ...
 * await discovery.stop();
 */
export function createLinkDiscovery(init: LinkDiscoveryInit = {}): LinkDiscovery {
  const debounceMs = init.debounceMs ?? DISCOVERY_DEBOUNCE_MS;
  if (!Number.isInteger(debounceMs) || debounceMs < 1 || debounceMs > 1000) {
    throw new LinksError('LINKS_INVALID_ARGUMENT', `discovery debounceMs ${debounceMs} is not valid: expected an integer 1..1000`, { details: { field: 'debounceMs', value: debounceMs } });
  }
  checkNetns(init.netns);
  const filters: UplinkFilters = {
    include: (init.include ?? []).map(compileGlob),
    exclude: (init.exclude ?? []).map(compileGlob),
    labels: Object.entries(init.labels ?? {}).map(([pattern, label]) => [compileGlob(pattern), label] as const),
  };
  return new IpMonitorDiscovery(filters, init.netns, debounceMs);
}

class IpMonitorDiscovery implements LinkDiscovery {
  readonly stats: LinkDiscoveryStats = { rereads: 0, monitorLines: 0, monitorRestarts: 0, errors: 0 };
  private readonly listeners = { added: new Set<UplinkListener>(), removed: new Set<UplinkListener>(), changed: new Set<UplinkListener>(), error: new Set<ErrorListener>() };
  private snapshot = new Map<string, UplinkCandidate>();
  private monitor: ChildProcess | undefined = undefined;
  private debounceTimer: NodeJS.Timeout | undefined = undefined;
  private restartTimer: NodeJS.Timeout | undefined = undefined;
  private restartDelayMs = DISCOVERY_RESTART_MS;
  private reading: Promise<void> | undefined = undefined;
  private readAgain = false;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(
    private readonly filters: UplinkFilters,
    private readonly netns: string | undefined,
    private readonly debounceMs: number,
  ) {
    this.onMonitorData = this.onMonitorData.bind(this);
  }

  get monitorPid(): number | undefined {
    return this.monitor?.pid;
  }

  on(event: EventName | 'error', listener: UplinkListener | ErrorListener): () => void {
    const set = this.listeners[event] as Set<typeof listener>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  candidates(): UplinkCandidate[] {
    return [...this.snapshot.values()];
  }

  async start(): Promise<UplinkCandidate[]> {
    if (this.state !== 'new') throw new LinksError('LINKS_STATE', `discovery already ${this.state === 'running' ? 'started' : 'stopped'}`);
    this.state = 'running';
    await this.startMonitor();
    try {
      await this.refresh();
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this.candidates();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.debounceTimer);
    clearTimeout(this.restartTimer);
    this.debounceTimer = undefined;
    this.restartTimer = undefined;
    const monitor = this.monitor;
    this.monitor = undefined;
    if (monitor !== undefined) await killChild(monitor);
    for (const set of Object.values(this.listeners)) set.clear();
    await this.reading?.catch(() => undefined);
  }

  /** Reads now; a read already under way is followed by exactly one more. */
  async refresh(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.reading !== undefined) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.readLoop();
    try {
      await this.reading;
    } finally {
      this.reading = undefined;
    }
  }

  private async readLoop(): Promise<void> {
    do {
      this.readAgain = false;
      const next = await this.read();
      if (this.stopped()) return;
      const events = diffSnapshots(this.snapshot, next);
      this.snapshot = next;
      for (const event of events) for (const listener of this.listeners[event.type]) listener(event);
    } while (this.readAgain && !this.stopped());
  }

  // A method, so TypeScript does not narrow `state` across the awaits above.
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private async read(): Promise<Map<string, UplinkCandidate>> {
    this.stats.rereads++;
    const options = { netns: this.netns };
    const [addrs, routes4, routes6] = await Promise.all([
      runIpJson<IpAddrJson[]>(['addr', 'show'], options),
      runIpJson<IpRouteJson[]>(['-4', 'route', 'show', 'default'], options),
      runIpJson<IpRouteJson[]>(['-6', 'route', 'show', 'default'], options),
    ]);
    return buildSnapshot(addrs, routes4, routes6, this.filters);
  }

  // A monitor line: re-read once the debounce window closes (one timer however many lines).
  private onMonitorData(chunk: Buffer): void {
    let lines = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    this.stats.monitorLines += lines;
    this.restartDelayMs = DISCOVERY_RESTART_MS;
    if (this.debounceTimer !== undefined || this.state !== 'running') return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.refresh().catch((error: unknown) => this.report(error));
    }, this.debounceMs);
  }

  private startMonitor(): Promise<void> {
    const child = spawn('ip', ipArgs(['-o', 'monitor', 'link', 'address', 'route'], this.netns), { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = child;
    child.stdout!.on('data', this.onMonitorData);
    child.once('exit', () => this.onMonitorExit(child));
    return new Promise((resolve) => {
      child.once('spawn', resolve);
      // 'error': it could not start (ENOENT) or could not be killed. Every one is reported.
      child.on('error', (error) => {
        this.report(new LinksError('LINKS_COMMAND_FAILED', `ip monitor failed: ${error.message}`, { cause: error }));
        this.onMonitorExit(child);
        resolve();
      });
    });
  }

  private onMonitorExit(child: ChildProcess): void {
    if (this.monitor !== child || this.state !== 'running') return;
    this.monitor = undefined;
    child.stdout?.off('data', this.onMonitorData);
    this.stats.monitorRestarts++;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, DISCOVERY_RESTART_MAX_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'running') return;
      // Changes while no monitor ran were not seen: read after the new one is up.
      void this.startMonitor().then(() => this.refresh().catch((error: unknown) => this.report(error)));
    }, delay);
  }

  private report(error: unknown): void {
    this.stats.errors++;
    const e = error instanceof LinksError ? error : new LinksError('LINKS_COMMAND_FAILED', `discovery read failed: ${(error as Error).message}`, { cause: error });
    for (const listener of this.listeners.error) listener(e);
  }
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
