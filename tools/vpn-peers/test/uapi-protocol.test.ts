// The UAPI client against a stand-in wireguard-go (a unix-socket server speaking the same
// text protocol): request format, errno handling, and every way a socket can let us down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUapiRequest, parseUapiResponse, uapiGet, uapiRequest, uapiSet } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vpn-peers-uapi-'));
const servers: Server[] = [];
const received: string[] = [];

/** A fake device answering each complete request with `answer(request)` (or nothing). */
function fakeDevice(name: string, answer: (request: string, socket: Socket) => string | undefined): Promise<string> {
  const path = join(dir, `${name}.sock`);
  const server = createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.endsWith('\n\n')) return;
      received.push(text);
      const reply = answer(text, socket);
      if (reply !== undefined) socket.write(reply);
      text = '';
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

let ok: string;
let busy: string;
let mute: string;
let hangup: string;
let partial: string;

beforeAll(async () => {
  ok = await fakeDevice('ok', (req) => (req.startsWith('get=1') ? 'private_key=aa\nlisten_port=51820\npublic_key=bb\nendpoint=10.0.0.2:51820\nerrno=0\n\n' : 'errno=0\n\n'));
  busy = await fakeDevice('busy', () => 'errno=-98\n\n');
  mute = await fakeDevice('mute', () => undefined);
  hangup = await fakeDevice('hangup', (_req, socket) => {
    socket.end();
    return undefined;
  });
  partial = await fakeDevice('partial', (_req, socket) => {
    socket.end('errno=0\n');
    return undefined;
  });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe('UAPI request format', () => {
  it('writes set/get, key=value lines and the closing empty line', () => {
    expect(formatUapiRequest('set', [['listen_port', '51820'], ['allowed_ip', '10.0.0.2/32']])).toBe('set=1\nlisten_port=51820\nallowed_ip=10.0.0.2/32\n\n');
    expect(formatUapiRequest('get')).toBe('get=1\n\n');
  });

  it('refuses keys outside [a-z_] and values with newlines', () => {
    expect(() => formatUapiRequest('set', [['Listen-Port', '1']])).toThrow(expect.objectContaining({ code: 'VPN_PEERS_INVALID_ARGUMENT' }));
    expect(() => formatUapiRequest('set', [['endpoint', '1.2.3.4:5\nprivate_key=00']])).toThrow(/without newlines/);
  });

  it('parses responses and insists on errno', () => {
    expect(parseUapiResponse('a=1\nb=x=y\nerrno=0\n\n')).toEqual({ errno: 0, entries: [['a', '1'], ['b', 'x=y']] });
    expect(() => parseUapiResponse('a=1\n\n')).toThrow(expect.objectContaining({ code: 'VPN_PEERS_PARSE_FAILED' }));
    expect(() => parseUapiResponse('garbage\nerrno=0\n\n')).toThrow(/is not key=value/);
  });
});

describe('UAPI over a socket', () => {
  it('set sends the entries and accepts errno=0', async () => {
    await uapiSet(ok, [['private_key', 'aa'], ['listen_port', '51820']]);
    expect(received.at(-1)).toBe('set=1\nprivate_key=aa\nlisten_port=51820\n\n');
  });

  it('get returns the device entries in order', async () => {
    expect(await uapiGet(ok)).toEqual([['private_key', 'aa'], ['listen_port', '51820'], ['public_key', 'bb'], ['endpoint', '10.0.0.2:51820']]);
  });

  it('errno != 0 is VPN_PEERS_UAPI_FAILED naming the keys and the errno', async () => {
    await expect(uapiSet(busy, [['listen_port', '51820'], ['listen_port', '51821']])).rejects.toMatchObject({
      code: 'VPN_PEERS_UAPI_FAILED',
      message: `UAPI ${busy}: set (listen_port) answered errno=-98`,
      details: { errno: -98 },
    });
    await expect(uapiGet(busy)).rejects.toMatchObject({ code: 'VPN_PEERS_UAPI_FAILED', message: expect.stringContaining('get answered errno=-98') as unknown });
  });

  it('a missing socket says wireguard-go is not running', async () => {
    await expect(uapiGet(join(dir, 'nothing.sock'))).rejects.toMatchObject({ code: 'VPN_PEERS_UAPI_FAILED', message: expect.stringContaining('socket not found (is wireguard-go running') as unknown });
  });

  it('a device that hangs up, stops mid-answer or never answers fails with the reason', async () => {
    await expect(uapiRequest(hangup, 'get=1\n\n')).rejects.toThrow(/connection closed without a response/);
    await expect(uapiRequest(partial, 'get=1\n\n')).rejects.toThrow(/connection closed before the end of the response/);
    await expect(uapiRequest(mute, 'get=1\n\n', { timeoutMs: 100 })).rejects.toThrow(/no complete response within 100 ms/);
  });
});
