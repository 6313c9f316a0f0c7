// UDP links on loopback (no root needed): connected and unconnected sends, the reused `from`
// endpoint, counters, errors counted never thrown, bind failures as LINKS_SOCKET, close twice.
import { createSocket } from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUdpLink, isLinksError, type UdpEndpoint, type UdpLink, type UdpLinkInit } from '../src/index.js';

// Every test runs twice: node:dgram links and batched links (sendmmsg/recvmmsg, batch_io addon).
let batched = false;
const open = (init: UdpLinkInit): Promise<UdpLink> => createUdpLink({ ...init, batched });
const links: UdpLink[] = [];
const make = async (init: UdpLinkInit): Promise<UdpLink> => {
  const link = await open(init);
  expect(link.batched).toBe(batched);
  links.push(link);
  return link;
};
afterEach(async () => {
  for (const link of links.splice(0)) await link.close();
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each([
  ['node:dgram', false],
  ['batched', true],
])('%s', (_kind, mode) => {
  beforeAll(() => {
    batched = mode;
  });

  describe.each([
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ])('UDP link over %s loopback', (_family, loopback) => {
    it('sends from a connected link to an unconnected one and back, counting both ways', async () => {
      const server = await make({ id: 'server', localAddress: loopback });
      const client = await make({ id: 'client', label: 'fiber', localAddress: loopback, remote: { address: loopback, port: server.localPort } });
      expect(client).toMatchObject({ id: 'client', label: 'fiber', family: loopback.includes(':') ? 6 : 4, localAddress: loopback, remote: { address: loopback, port: server.localPort }, closed: false, route: undefined });
      expect(client.localPort).toBeGreaterThan(0);

      const atServer: string[] = [];
      const endpoints: UdpEndpoint[] = [];
      server.onMessage((data, from) => {
        atServer.push(`${data.toString()}@${from.address}:${from.port}`);
        endpoints.push(from);
        server.sendTo(data, 0, data.length, from.port, from.address);
      });
      const atClient: string[] = [];
      client.onMessage((data) => atClient.push(data.toString()));

      const frame = Buffer.from('xxhello-1yy');
      expect(client.send(frame, 2, 7)).toBe(true);
      expect(client.send(Buffer.from('hello-2'))).toBe(true);
      await waitFor(() => atClient.length === 2);
      expect(atServer).toEqual([`hello-1@${loopback}:${client.localPort}`, `hello-2@${loopback}:${client.localPort}`]);
      expect(atClient).toEqual(['hello-1', 'hello-2']);
      // one endpoint object per link, overwritten per datagram
      expect(endpoints[0]).toBe(endpoints[1]);
      expect(client.stats).toMatchObject({ txPackets: 2, txBytes: 14, rxPackets: 2, rxBytes: 14, sendErrors: 0, receiveErrors: 0, lastErrorCode: '' });
      expect(server.stats).toMatchObject({ txPackets: 2, txBytes: 14, rxPackets: 2, rxBytes: 14 });
    });

    it('delivers a burst of datagrams in order with exact counters', async () => {
      const server = await make({ id: 'server', localAddress: loopback, receiveBufferBytes: 1 << 20, sendBufferBytes: 1 << 20 });
      const client = await make({ id: 'client', localAddress: loopback, remote: { address: loopback, port: server.localPort } });
      const seen: number[] = [];
      server.onMessage((data) => seen.push(data.readUInt32BE(0)));
      for (let i = 0; i < 500; i++) {
        const packet = Buffer.alloc(1200); // a batched send keeps a reference until its flush
        packet.writeUInt32BE(i, 0);
        client.send(packet);
      }
      await waitFor(() => seen.length === 500);
      expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect(client.stats.txPackets).toBe(500);
      expect(client.stats.txBytes).toBe(500 * 1200);
      expect(server.stats.rxBytes).toBe(500 * 1200);
    });
    it('echoes a burst back from inside the receive handler with every byte intact', async () => {
      // batched: each reply references the receive slot it came in; the link must send it
      // before the next recvmmsg round reuses that slot
      const server = await make({ id: 'server', localAddress: loopback, receiveBufferBytes: 1 << 21, sendBufferBytes: 1 << 21 });
      const clients = [
        await make({ id: 'c1', localAddress: loopback, remote: { address: loopback, port: server.localPort }, receiveBufferBytes: 1 << 21 }),
        await make({ id: 'c2', localAddress: loopback, remote: { address: loopback, port: server.localPort }, receiveBufferBytes: 1 << 21 }),
      ];
      server.onMessage((data, from) => server.sendTo(data, 0, data.length, from.port, from.address));
      const got: string[][] = [[], []];
      clients.forEach((c, k) => c.onMessage((data) => got[k]!.push(data.toString())));
      const sent: string[][] = [[], []];
      for (let i = 0; i < 300; i++) {
        for (const [k, c] of clients.entries()) {
          const text = `${c.id}-${i}-`.padEnd(600, String.fromCharCode(97 + (i % 26)));
          sent[k]!.push(text);
          c.send(Buffer.from(text));
        }
      }
      await waitFor(() => got[0]!.length + got[1]!.length === 600, 5000);
      expect(got).toEqual(sent);
      expect(server.stats).toMatchObject({ rxPackets: 600, txPackets: 600, sendErrors: 0 });
    });
  });

  describe('UDP link errors', () => {
    it('counts ECONNREFUSED from a closed remote port instead of throwing', async () => {
      const probe = createSocket('udp4');
      await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
      const deadPort = probe.address().port;
      await new Promise<void>((r) => probe.close(() => r()));
      const client = await make({ id: 'c', localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: deadPort } });
      for (let i = 0; i < 5; i++) {
        client.send(Buffer.from('x'));
        await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor(() => client.stats.sendErrors + client.stats.receiveErrors > 0);
      expect(client.stats.lastErrorCode).toBe('ECONNREFUSED');
    });

    it('counts a failed send (datagram too large) as a send error', async () => {
      const client = await make({ id: 'c', localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: 9 } });
      client.send(Buffer.alloc(70_000));
      await waitFor(() => client.stats.sendErrors === 1);
      expect(client.stats.lastErrorCode).toBe('EMSGSIZE');
      expect(client.stats.txPackets).toBe(0);
    });

    it('rejects with LINKS_SOCKET for an address that is not local or a port in use', async () => {
      await expect(open({ id: 'x', localAddress: '192.0.2.77' })).rejects.toMatchObject({ code: 'LINKS_SOCKET', message: expect.stringContaining('EADDRNOTAVAIL') as unknown });
      const first = await make({ id: 'a', localAddress: '127.0.0.1' });
      const error = await open({ id: 'b', localAddress: '127.0.0.1', localPort: first.localPort }).catch((e: unknown) => e);
      expect(isLinksError(error, 'LINKS_SOCKET')).toBe(true);
      expect((error as Error).message).toContain(`bind 127.0.0.1:${first.localPort} failed: EADDRINUSE`);
    });

    it.each([
      [{ id: '', localAddress: '127.0.0.1' }, 'udp link id'],
      [{ id: 'a', localAddress: 'localhost' }, 'localAddress "localhost"'],
      [{ id: 'a', localAddress: '127.0.0.1', localPort: 70000 }, 'localPort 70000'],
      [{ id: 'a', localAddress: '127.0.0.1', remote: { address: '::1', port: 1 } }, 'remote.address'],
      [{ id: 'a', localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: 0 } }, 'remote.port 0'],
      [{ id: 'a', localAddress: '127.0.0.1', table: 100 }, 'interface'],
      [{ id: 'a', localAddress: '127.0.0.1', receiveBufferBytes: 10 }, 'receiveBufferBytes 10'],
    ])('refuses %j', async (init, message) => {
      const error = await open(init).catch((e: unknown) => e);
      expect(isLinksError(error, 'LINKS_INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(message);
    });

    it('closes twice and drops (counts) sends after close', async () => {
      const link = await open({ id: 'a', localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: 9 } });
      await Promise.all([link.close(), link.close()]);
      await link.close();
      expect(link.closed).toBe(true);
      expect(link.send(Buffer.from('x'))).toBe(false);
      expect(link.sendTo(Buffer.from('x'), 0, 1, 9, '127.0.0.1')).toBe(false);
      expect(link.stats.sendsAfterClose).toBe(2);
    });
  });
});
