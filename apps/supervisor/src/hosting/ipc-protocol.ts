/**
 * The IPC messages between the supervisor and an app's child process (child_process.fork,
 * JSON serialization). Requests carry an id; each gets exactly one response with that id.
 *
 *   parent → child   {t:'req', id, op, args}
 *                    op: start {config} | reload {config} | stop {deadlineMs} | status |
 *                        health | metrics | resource {name, query}
 *   child → parent   {t:'hello', app, pid}            module loaded, ready for start
 *                    {t:'res', id, ok:true, value} | {t:'res', id, ok:false, error:{code,message,details}}
 *                    {t:'event', event}               an @edgebox/events v1 event of the app
 *                    {t:'log', level, message}        a fatal problem before/after requests
 */
import type { ErrorBody, JsonValue } from '@edgebox/runtime';

/** What a child can be asked. */
export type IpcOp = 'start' | 'reload' | 'stop' | 'status' | 'health' | 'metrics' | 'resource';

export interface IpcRequest {
  t: 'req';
  id: number;
  op: IpcOp;
  args?: { config?: unknown; deadlineMs?: number; name?: string; query?: Record<string, string> };
}

export type IpcResponse = { t: 'res'; id: number; ok: true; value: JsonValue } | { t: 'res'; id: number; ok: false; error: ErrorBody };

export type ChildMessage =
  | IpcResponse
  | { t: 'hello'; app: string; pid: number }
  | { t: 'event'; event: unknown }
  | { t: 'log'; level: 'error' | 'warn'; message: string };

/** True for a message shaped like one a child sends (anything else is ignored and counted). */
export function isChildMessage(m: unknown): m is ChildMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
