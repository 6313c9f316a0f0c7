/**
 * The connection state machine for one peer (or one tunnel session), with its legal transitions
 * enforced, the last N transitions remembered, and listeners.
 *
 *   disconnected ──dial──▶ connecting ──up──▶ connected ──handshake──▶ established
 *        └──────────────── inbound ─────────────▲
 *   reconnecting ──retry timer──▶ connecting   (entered when connecting/connected/established fail)
 *   cooldown ──cooldown over──▶ connecting     (entered on repeated failure or a penalty)
 *   any state but disconnected ──▶ disconnected (closed, cancelled, stopped)
 *
 * The exact table is CONNECTION_TRANSITIONS (tests enumerate every pair against it). A state
 * never transitions to itself. Listeners run after the state changed, in transition order: a
 * transition made from inside a listener is applied at once (state, history) and its
 * notification queued behind the one being delivered.
 */
import { CONNECTION_HISTORY_MAX, CONNECTION_HISTORY_SIZE, REASON_MAX_LENGTH } from './constants.js';
import { PeersError, checkInteger, invalid } from './errors.js';

/** The states a connection goes through. */
export const CONNECTION_STATES = ['disconnected', 'connecting', 'connected', 'established', 'reconnecting', 'cooldown'] as const;

/** One of CONNECTION_STATES. */
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/**
 * Legal transitions: from → the states it may move to.
 *
 * @example CONNECTION_TRANSITIONS.connected // ['established', 'disconnected', 'reconnecting', 'cooldown']
 */
export const CONNECTION_TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = Object.freeze({
  // dial out, or an inbound connection arriving already connected
  disconnected: Object.freeze(['connecting', 'connected'] as const),
  // transport up; cancelled / gave up; dial failed, retry later; too many failures
  connecting: Object.freeze(['connected', 'disconnected', 'reconnecting', 'cooldown'] as const),
  // handshake done; closed; lost before the handshake; handshake refused repeatedly
  connected: Object.freeze(['established', 'disconnected', 'reconnecting', 'cooldown'] as const),
  // closed on purpose; lost; penalised (rate limit, protocol violation)
  established: Object.freeze(['disconnected', 'reconnecting', 'cooldown'] as const),
  // backoff timer fired; stopped; circuit opened
  reconnecting: Object.freeze(['connecting', 'disconnected', 'cooldown'] as const),
  // cooldown over, try again; stopped
  cooldown: Object.freeze(['connecting', 'disconnected'] as const),
});

/** One recorded transition. */
export interface ConnectionTransition {
  from: ConnectionState;
  to: ConnectionState;
  reason: string;
  /** Clock time (ms) of the transition. */
  at: number;
}

/** Options of createConnectionStateMachine. */
export interface ConnectionStateInit {
  /** Starting state (default 'disconnected'). */
  initial?: ConnectionState;
  /** Transitions remembered (default CONNECTION_HISTORY_SIZE). */
  historySize?: number;
}

/** Dependencies of createConnectionStateMachine. */
export interface ConnectionStateComponents {
  /** Clock in ms (default Date.now; history timestamps are shown to people). */
  now?: () => number;
  /** Called when a listener throws (the machine and other listeners carry on). */
  onListenerError?: (err: unknown) => void;
}

/** A connection's state, its legal moves and its recent history. */
export interface ConnectionStateMachine {
  readonly state: ConnectionState;
  /** Clock time the current state was entered. */
  readonly since: number;
  /** Transitions made since creation (not bounded by the history size). */
  readonly transitions: number;
  /** True when `to` is a legal next state. */
  can(to: ConnectionState): boolean;
  /** Move to `to`; throws PEERS_ILLEGAL_TRANSITION (state unchanged) when not legal. */
  transition(to: ConnectionState, reason: string): ConnectionTransition;
  /** Move to `to` if legal; false (and nothing recorded) otherwise. */
  tryTransition(to: ConnectionState, reason: string): boolean;
  /** The last `historySize` transitions, oldest first. */
  history(): ConnectionTransition[];
  /** Subscribe; returns the unsubscribe function. */
  onTransition(listener: (transition: ConnectionTransition) => void): () => void;
}

const STATE_SET = new Set<string>(CONNECTION_STATES);

function checkState(field: string, value: unknown): ConnectionState {
  if (typeof value === 'string' && STATE_SET.has(value)) return value as ConnectionState;
  throw invalid(field, value, `one of ${CONNECTION_STATES.join(', ')}`);
}

/**
 * Create a connection state machine.
 *
 * @example
 * const conn = createConnectionStateMachine();
 * conn.onTransition((t) => log.info({ peer, ...t }, 'connection state'));
 * conn.transition('connecting', 'address book auto-connect');
 * conn.transition('connected', 'tcp up');
 * conn.transition('established', 'handshake ok');
 * conn.transition('connecting', 'oops'); // throws PeersError PEERS_ILLEGAL_TRANSITION
 */
export function createConnectionStateMachine(init: ConnectionStateInit = {}, components: ConnectionStateComponents = {}): ConnectionStateMachine {
  const historySize = checkInteger('historySize', init.historySize ?? CONNECTION_HISTORY_SIZE, 1, CONNECTION_HISTORY_MAX);
  const now = components.now ?? Date.now;
  const onListenerError = components.onListenerError ?? (() => undefined);
  let state = checkState('initial', init.initial ?? 'disconnected');
  let since = now();
  let transitions = 0;
  // history ring: `ring[(start + i) % historySize]` for i < count, oldest first
  const ring: ConnectionTransition[] = [];
  let start = 0;
  const listeners = new Set<(t: ConnectionTransition) => void>();
  const pending: ConnectionTransition[] = [];
  let delivering = false;

  const deliver = (): void => {
    if (delivering) return;
    delivering = true;
    try {
      for (let t = pending.shift(); t !== undefined; t = pending.shift()) {
        for (const listener of [...listeners]) {
          try {
            listener(t);
          } catch (err) {
            onListenerError(err);
          }
        }
      }
    } finally {
      delivering = false;
    }
  };

  const apply = (to: ConnectionState, reason: string): ConnectionTransition => {
    const at = now();
    const t: ConnectionTransition = { from: state, to, reason, at };
    state = to;
    since = at;
    transitions++;
    if (ring.length < historySize) ring.push(t);
    else {
      ring[start] = t;
      start = (start + 1) % historySize;
    }
    pending.push(t);
    deliver();
    return t;
  };

  const checkReason = (reason: unknown): string => {
    if (typeof reason === 'string' && reason.length <= REASON_MAX_LENGTH) return reason;
    throw invalid('reason', reason, `a string of at most ${REASON_MAX_LENGTH} characters`);
  };

  const legal = (to: ConnectionState): boolean => CONNECTION_TRANSITIONS[state].includes(to);

  return {
    get state() {
      return state;
    },
    get since() {
      return since;
    },
    get transitions() {
      return transitions;
    },
    can: (to) => STATE_SET.has(to) && legal(to),
    transition(to, reason) {
      const target = checkState('to', to);
      const why = checkReason(reason);
      if (!legal(target)) {
        throw new PeersError('PEERS_ILLEGAL_TRANSITION', `connection state ${state} -> ${target} is not allowed (from ${state}: ${CONNECTION_TRANSITIONS[state].join(', ')}); reason given: ${why}`, {
          details: { from: state, to: target, reason: why, allowed: [...CONNECTION_TRANSITIONS[state]] },
        });
      }
      return apply(target, why);
    },
    tryTransition(to, reason) {
      const why = checkReason(reason);
      if (!STATE_SET.has(to) || !legal(to)) return false;
      apply(to, why);
      return true;
    },
    history() {
      return [...ring.slice(start), ...ring.slice(0, start)].map((t) => ({ ...t }));
    },
    onTransition(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
