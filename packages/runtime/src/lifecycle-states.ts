/**
 * The lifecycle states of a Service and the legal moves between them.
 *
 *   from        to                   on
 *   idle        starting             start()
 *   starting    running | failed     the start hook resolved | threw
 *   running     reloading            reload() with a config that passed validation
 *               stopping             stop()
 *               failed               fail(err): a fault the service reports
 *   reloading   running              the reload hook resolved (applied) or threw (refused)
 *               failed               fail(err)
 *   stopping    stopped | failed     the stop hook resolved | threw or missed the deadline
 *   stopped     starting             start() again (restartable services)
 *   failed      starting | stopping  start() retries | stop() releases what start acquired
 *
 * A stop issued during `starting` or `reloading` waits for that step to settle first.
 */
export type LifecycleState = 'idle' | 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped' | 'failed';

/** Every lifecycle state. */
export const LIFECYCLE_STATES: readonly LifecycleState[] = ['idle', 'starting', 'running', 'reloading', 'stopping', 'stopped', 'failed'];

/** Legal transitions: from → allowed targets. */
export const LIFECYCLE_TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  idle: ['starting'],
  starting: ['running', 'failed'],
  running: ['reloading', 'stopping', 'failed'],
  reloading: ['running', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: ['starting'],
  failed: ['starting', 'stopping'],
};

/**
 * True when `from → to` is a legal move.
 *
 * @example
 * canTransition('running', 'reloading'); // true
 * canTransition('stopping', 'running');  // false
 */
export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return LIFECYCLE_TRANSITIONS[from].includes(to);
}
