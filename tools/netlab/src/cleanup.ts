/**
 * Process-exit safety net for live labs. While at least one lab lives, netlab listens for
 * SIGINT/SIGTERM (destroy every lab, then let the signal take its default course) and for
 * `exit` (a synchronous last-chance teardown: SIGKILL the lab's processes, `ip netns del`).
 * The handlers are removed as soon as the last lab is destroyed, so an idle process keeps
 * its normal signal behaviour.
 */
import { spawnSync } from 'node:child_process';

/** What the registry needs from a lab. */
export interface Cleanable {
  /** Normal, asynchronous teardown. */
  destroy(): Promise<void>;
  /** Synchronous teardown for the `exit` event, when no more I/O callbacks will run. */
  destroySync(): void;
}

const live = new Set<Cleanable>();
let installed = false;

const onSignal = (signal: NodeJS.Signals): void => {
  const labs = [...live];
  void Promise.allSettled(labs.map((lab) => lab.destroy())).then(() => {
    uninstall();
    // Someone else listens too: they own the decision to exit. Otherwise re-raise so the
    // process ends the way it would have without us (exit status 128 + signal).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
};
const onExit = (): void => {
  for (const lab of live) {
    try {
      lab.destroySync();
    } catch {
      // Best effort: the state file lets `gc` finish the job later.
    }
  }
  live.clear();
};

function install(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}

/** Tracks a live lab (installs the handlers with the first). */
export function registerLab(lab: Cleanable): void {
  live.add(lab);
  install();
}

/** Forgets a destroyed lab (removes the handlers with the last). */
export function unregisterLab(lab: Cleanable): void {
  live.delete(lab);
  if (live.size === 0) uninstall();
}

/** Number of labs this process still holds (tests use it to check the handlers come off). */
export function liveLabCount(): number {
  return live.size;
}

/** Synchronous `ip netns del` used from the exit handler. */
export function deleteNamespaceSync(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 });
  for (const text of (pids.stdout ?? '').split('\n')) {
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 });
}
