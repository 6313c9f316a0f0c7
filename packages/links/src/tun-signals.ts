/**
 * SIGINT/SIGTERM after tuntap-bridge: its native module replaces the process's C handlers for
 * SIGINT and SIGTERM with its own when it loads (they only set a flag, so the process no longer
 * dies on Ctrl-C or `kill`), and its TunTap constructor adds `process.once` listeners whose
 * presence alone turns off Node's default exit on those signals.
 *
 * Node (libuv) installs its C handler for a signal when the signal gets its first JS listener
 * and restores SIG_DFL when the last one goes. So after loading the module we take every
 * listener off and put it back ({@link rearmSignals}): libuv's handler is back in place and
 * listeners registered earlier (runtime's handleSignals) fire again. We also add
 * {@link exitOnSignal}, which does what the default action would have done when nobody else
 * handles the signal: close every TUN device and die by the same signal.
 */

/** The signals the native module traps. */
export const TRAPPED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type TrappedSignal = (typeof TRAPPED_SIGNALS)[number];
type Listener = (...args: unknown[]) => void;

let closeAll: () => void = () => undefined;

/** Sets what {@link exitOnSignal} runs before the process dies (tun-device: close every device). */
export function setCloseAllOnSignal(fn: () => void): void {
  closeAll = fn;
}

/**
 * Re-installs Node's handlers for SIGINT/SIGTERM (call right after the native module loaded) and
 * makes sure {@link exitOnSignal} listens. `rawListeners` keeps `once` listeners `once`.
 */
export function rearmSignals(): void {
  for (const signal of TRAPPED_SIGNALS) {
    const listeners = process.rawListeners(signal) as Listener[];
    process.removeAllListeners(signal);
    // The first `on` below (or exitOnSignal's) makes libuv install its handler again.
    for (const listener of listeners) process.on(signal, listener);
    if (!process.listeners(signal).includes(exitOnSignal)) process.on(signal, exitOnSignal);
  }
}

/**
 * Listener for SIGINT/SIGTERM. When another listener exists (runtime's handleSignals, an app's
 * own), that one owns the signal and this does nothing. Otherwise: close every TUN device, drop
 * our listener (libuv restores SIG_DFL) and re-raise the signal, so the process dies by it just
 * as it would have without tuntap-bridge; exit 128 + n if it somehow survives.
 */
export function exitOnSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  try {
    closeAll();
  } finally {
    for (const s of TRAPPED_SIGNALS) process.removeListener(s, exitOnSignal);
    process.kill(process.pid, signal);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
}

/**
 * Runs `action` (TunTap's constructor or close) and removes every SIGINT/SIGTERM/exit listener it
 * added: TunTap registers `process.once` cleanups that would otherwise disable the default exit.
 */
export function withoutNewSignalListeners<T>(action: () => T): T {
  const events = [...TRAPPED_SIGNALS, 'exit'] as const;
  const before = events.map((event) => new Set(process.rawListeners(event)));
  try {
    return action();
  } finally {
    events.forEach((event, i) => {
      for (const listener of process.rawListeners(event)) {
        if (!before[i]!.has(listener)) process.removeListener(event as TrappedSignal, listener as Listener);
      }
    });
  }
}
