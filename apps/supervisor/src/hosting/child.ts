/**
 * The child process entry: hosts one app's Service for the supervisor (ARCHITECTURE.md rule 5)
 * and answers its IPC requests (ipc-protocol.ts). Forked as `child.js <app>`.
 *
 *   1. load the app module and create the Service, say hello
 *   2. answer requests: start/reload/stop go to the Service; status, health, metrics
 *      (`registry.getMetricsAsJSON()`, merged by the parent) and resources read it
 *   3. forward every @edgebox/events v1 event the Service emits
 *   4. exit after a stop, or when the parent goes away (stop first, within the deadline)
 *
 * No ops server here: the supervisor serves /metrics, /health and the API for every app.
 */
import '@edgebox/runtime/polyfill';
import { combineHealth, lifecycleHealth, toErrorBody, toJsonSafe } from '@edgebox/runtime';
import type { AnyService, JsonValue } from '@edgebox/runtime';
import { APP_NAMES } from '../constants.js';
import type { AppName } from '../constants.js';
import { loadService, readResource } from './app-catalog.js';
import { isChildMessage } from './ipc-protocol.js';
import type { ChildMessage, IpcRequest } from './ipc-protocol.js';

const DISCONNECT_DEADLINE_MS = 5000;

function send(message: ChildMessage): void {
  if (process.connected) process.send!(message);
}

async function handle(app: AppName, service: AnyService, req: IpcRequest): Promise<JsonValue> {
  switch (req.op) {
    case 'start':
      await service.start(req.args?.config);
      return null;
    case 'reload':
      return toJsonSafe(await service.reload(req.args?.config)) as JsonValue;
    case 'stop':
      await service.stop({ deadlineMs: req.args?.deadlineMs ?? DISCONNECT_DEADLINE_MS });
      return null;
    case 'status':
      return { state: service.state, status: toJsonSafe(service.status()) as JsonValue };
    case 'health': {
      let own;
      try {
        own = await service.health();
      } catch (err) {
        own = { status: 'failing' as const, ready: false, checks: [{ name: 'service', status: 'failing' as const, message: String(err), observedAt: new Date().toISOString() }] };
      }
      return toJsonSafe(combineHealth(lifecycleHealth(service.state), own)) as JsonValue;
    }
    case 'metrics':
      return toJsonSafe(await service.registry.getMetricsAsJSON()) as JsonValue;
    case 'resource':
      return readResource(app, service, req.args?.name ?? '', req.args?.query ?? {});
  }
}

async function main(): Promise<void> {
  const app = process.argv[2] as AppName;
  if (!(APP_NAMES as readonly string[]).includes(app) || process.send === undefined) {
    console.error(`usage: child.js <${APP_NAMES.join('|')}> (forked with an IPC channel)`);
    process.exit(2);
  }
  const service = await loadService(app);
  service.events.on('event' as never, ((event: unknown) => send({ t: 'event', event })) as never);

  let exiting = false;
  const exitAfterStop = async (deadlineMs: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await service.stop({ deadlineMs }).catch(() => undefined);
    process.exit(0);
  };

  process.on('message', (m: unknown) => {
    if (!isChildMessage(m as never) || (m as { t: string }).t !== 'req') return;
    const req = m as IpcRequest;
    handle(app, service, req).then(
      (value) => {
        send({ t: 'res', id: req.id, ok: true, value });
        if (req.op === 'stop') setImmediate(() => process.exit(0));
      },
      (err: unknown) => {
        send({ t: 'res', id: req.id, ok: false, error: toErrorBody(err) });
        if (req.op === 'stop') setImmediate(() => process.exit(1));
      },
    );
  });
  // The supervisor died or closed the channel: stop cleanly, never linger as an orphan.
  process.on('disconnect', () => void exitAfterStop(DISCONNECT_DEADLINE_MS));
  // SIGTERM/SIGINT reach the whole process group on Ctrl-C: the supervisor stops us itself.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void exitAfterStop(DISCONNECT_DEADLINE_MS));
  send({ t: 'hello', app, pid: process.pid });
}

main().catch((err: unknown) => {
  send({ t: 'log', level: 'error', message: `child failed: ${err instanceof Error ? err.message : String(err)}` });
  console.error(err);
  process.exit(1);
});
