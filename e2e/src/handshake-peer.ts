/**
 * A small UDP peer for the handshake e2e scenario: runs the @edgebox/crypto handshake over
 * node:dgram as responder (`server`) or initiator (`client`), then proves both sides derived
 * the same keys by exchanging one AEAD-sealed message each way (./sealed-frame.ts).
 *
 *   node --conditions=@edgebox/source --import tsx e2e/src/handshake-peer.ts server \
 *     --bind 10.0.0.2 [--port 0] [--cookie never|under-load|always] CREDENTIALS
 *   node ... handshake-peer.ts client --connect 10.0.0.2:PORT [--timeout-ms 10000]
 *     [--attempt-ms 500] [--message TEXT] CREDENTIALS
 *   CREDENTIALS: --ca FILE --cert FILE --key FILE [--crl FILE]
 *                 certificate mode: PEM files from ./pki.ts (appliance CA, issued certificate,
 *                 PKCS#8 Ed25519 key); the peer's certificate is checked against --ca
 *            or  --psk-id ID --psk-hex HEX        (PSK mode)
 *
 * Output: one JSON object per line on stdout, `{"role":..,"event":..,...}`. Events:
 *   server: listening {address, port}, cookie-sent {peer}, session {peer, suite, peerName},
 *           message {peer, text}, rejected {peer, code, message}
 *   client: cookie-received, handshake-done {suite, peerName}, message {text} (then exit 0),
 *           rejected {code, message}, error {code, message} (then exit 1 or 3)
 * Exit status: 0 session confirmed (client) or clean shutdown (server); 1 the handshake was
 * refused; 2 usage; 3 no confirmed session within --timeout-ms.
 *
 * Everything is bounded: retransmissions (timeout / attempt interval), sessions (oldest
 * evicted past MAX_SESSIONS), plaintext size, and the client's overall lifetime.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { createHandshakeInitiator, createHandshakeResponder, peekHandshakeType } from '@edgebox/crypto';
import type { HandshakeCertificateCredentials, HandshakeCookieMode, HandshakePskCredentials, HandshakeResult } from '@edgebox/crypto';
import { FRAME_TYPE_DATA, openFrame, peekFrame, sealFrame, sessionKeysOf } from './sealed-frame.js';
import type { SessionKeys } from './sealed-frame.js';
import { loadCertificateCredentials } from './pki.js';

const MAX_SESSIONS = 256;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const EXIT_TIMEOUT = 3;

type Role = 'server' | 'client';
let role: Role = 'client';

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ role, event, ...fields }) + '\n');
}

function errorFields(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'E2E_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function peerName(result: HandshakeResult): string {
  return result.peer.kind === 'certificate' ? result.peer.commonName : `psk:${result.peer.pskId}`;
}

const options = {
  bind: { type: 'string' },
  port: { type: 'string', default: '0' },
  connect: { type: 'string' },
  cookie: { type: 'string', default: 'never' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  crl: { type: 'string' },
  'psk-id': { type: 'string' },
  'psk-hex': { type: 'string' },
  'timeout-ms': { type: 'string', default: '10000' },
  'attempt-ms': { type: 'string', default: '500' },
  message: { type: 'string' },
} as const;

type Args = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

function positiveInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > 600_000) throw new UsageError(`--${name} ${text} is not an integer in 1..600000`);
  return n;
}

async function credentials(args: Args): Promise<HandshakeCertificateCredentials | HandshakePskCredentials> {
  if (args['psk-id'] !== undefined || args['psk-hex'] !== undefined) {
    if (args['psk-id'] === undefined || args['psk-hex'] === undefined || !/^([0-9a-f]{2})+$/i.test(args['psk-hex'])) {
      throw new UsageError('PSK mode needs --psk-id ID and --psk-hex HEX');
    }
    return { kind: 'psk', pskId: args['psk-id'], psk: Uint8Array.from(Buffer.from(args['psk-hex'], 'hex')) };
  }
  if (args.ca === undefined || args.cert === undefined || args.key === undefined) {
    throw new UsageError('certificate mode needs --ca FILE --cert FILE --key FILE (or PSK mode: --psk-id, --psk-hex)');
  }
  return loadCertificateCredentials({ caFile: args.ca, certFile: args.cert, keyFile: args.key, ...(args.crl === undefined ? {} : { crlFile: args.crl }) });
}

async function runServer(args: Args): Promise<number> {
  if (args.bind === undefined) throw new UsageError('server needs --bind ADDRESS');
  const mode = args.cookie as HandshakeCookieMode;
  if (!['never', 'under-load', 'always'].includes(mode)) throw new UsageError(`--cookie ${args.cookie} not one of never, under-load, always`);
  const creds = await credentials(args);
  const responder = createHandshakeResponder({
    ...(creds.kind === 'certificate' ? { certificate: creds } : { psk: { lookup: (id: string) => (id === creds.pskId ? creds.psk : undefined) } }),
    cookie: { mode },
  });
  const sessions = new Map<number, { keys: SessionKeys; peer: string; sent: bigint; seen: Set<bigint> }>();
  const socket = createSocket({ type: isIPv6(args.bind) ? 'udp6' : 'udp4' });

  const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const peer = `${rinfo.address}:${rinfo.port}`;
    if (msg[0] === FRAME_TYPE_DATA) {
      const head = peekFrame(msg);
      const session = head === undefined ? undefined : sessions.get(head.receiverSessionId);
      const opened = session === undefined ? undefined : openFrame(session.keys, msg);
      if (session === undefined || opened === undefined) {
        emit('rejected', { peer, code: 'E2E_DATA_UNAUTHENTICATED', message: 'data frame for no session or failing authentication' });
        return;
      }
      // A re-sent message (the client retransmits until it hears back) is answered again but logged once.
      if (!session.seen.has(opened.counter)) {
        if (session.seen.size < 64) session.seen.add(opened.counter);
        emit('message', { peer, text: opened.plaintext.toString('utf8') });
      }
      socket.send(sealFrame(session.keys, session.sent++, Buffer.from(`pong: ${opened.plaintext.toString('utf8')}`)), rinfo.port, rinfo.address);
      return;
    }
    try {
      const step = responder.receive(msg, { peerAddress: peer });
      if (step.send !== undefined) {
        socket.send(step.send, rinfo.port, rinfo.address);
        if (peekHandshakeType(step.send) === 'cookie-reply') emit('cookie-sent', { peer });
      }
      if (step.result !== undefined) {
        const result = step.result;
        if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
        sessions.set(result.localSessionId, { keys: sessionKeysOf(result), peer, sent: 0n, seen: new Set() });
        emit('session', { peer, suite: result.suite, peerName: peerName(result) });
        result.destroy();
      }
    } catch (err) {
      // Only CryptoErrors come out of receive(); report and carry on serving others.
      emit('rejected', { peer, ...errorFields(err) });
    }
  };

  return new Promise((resolve, reject) => {
    socket.on('message', onMessage);
    socket.once('error', reject);
    const stop = (): void => {
      responder.destroy();
      socket.close(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    socket.bind(positiveIntOrZero(args.port), args.bind, () => {
      const addr = socket.address();
      emit('listening', { address: addr.address, port: addr.port, mode: creds.kind, cookie: mode });
    });
  });
}

function positiveIntOrZero(text: string | undefined): number {
  if (text === '0') return 0;
  return positiveInt(text, 'port');
}

async function runClient(args: Args): Promise<number> {
  const target = args.connect;
  const m = target === undefined ? null : /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (m === null) throw new UsageError('client needs --connect HOST:PORT');
  const host = m[1]!;
  const port = positiveInt(m[2], 'connect port');
  const timeoutMs = positiveInt(args['timeout-ms'], 'timeout-ms');
  const attemptMs = positiveInt(args['attempt-ms'], 'attempt-ms');
  const text = args.message ?? `hello from ${process.pid}`;
  const initiator = createHandshakeInitiator({ credentials: await credentials(args) });
  const socket: Socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });

  return new Promise((resolve) => {
    let keys: SessionKeys | undefined;
    let dataFrame: Buffer | undefined;
    let finished = false;

    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      clearInterval(retry);
      clearTimeout(deadline);
      initiator.destroy();
      socket.close(() => resolve(code));
    };
    const send = (bytes: Uint8Array): void => socket.send(bytes, port, host);

    // Bounded retransmission: the last handshake message (Init, Init+cookie or Finish) and,
    // once we have keys, our sealed message, until the server's sealed reply arrives.
    const retry = setInterval(() => {
      const last = initiator.retransmit();
      if (last !== undefined) send(last);
      if (dataFrame !== undefined) send(dataFrame);
    }, attemptMs);
    const deadline = setTimeout(() => {
      emit('error', {
        code: 'E2E_NO_SESSION',
        message: `no confirmed session with ${host}:${port} within ${timeoutMs} ms (handshake state ${initiator.state}${keys === undefined ? '' : ', no sealed reply from the server'})`,
      });
      finish(EXIT_TIMEOUT);
    }, timeoutMs);

    socket.on('message', (msg: Buffer) => {
      if (finished) return;
      if (msg[0] === FRAME_TYPE_DATA) {
        const opened = keys === undefined ? undefined : openFrame(keys, msg);
        if (opened === undefined) {
          emit('rejected', { code: 'E2E_DATA_UNAUTHENTICATED', message: 'data frame failing authentication' });
          return;
        }
        emit('message', { text: opened.plaintext.toString('utf8') });
        finish(0);
        return;
      }
      try {
        const type = peekHandshakeType(msg);
        const step = initiator.receive(msg);
        if (type === 'cookie-reply') emit('cookie-received');
        if (step.send !== undefined) send(step.send);
        if (step.result !== undefined) {
          keys = sessionKeysOf(step.result);
          emit('handshake-done', { suite: step.result.suite, peerName: peerName(step.result) });
          step.result.destroy();
          dataFrame = sealFrame(keys, 0n, Buffer.from(text));
          send(dataFrame);
        }
      } catch (err) {
        const fields = errorFields(err);
        emit('rejected', fields);
        // Fatal means the handshake is over (e.g. the server's certificate is untrusted).
        if ((err as { details?: { fatal?: unknown } }).details?.fatal === true || initiator.state === 'failed') {
          emit('error', fields);
          finish(EXIT_REFUSED);
        }
      }
    });
    socket.once('error', (err) => {
      emit('error', errorFields(err));
      finish(EXIT_REFUSED);
    });
    send(initiator.start());
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({ args: [...rest], options, allowPositionals: false, strict: true });
    if (command === 'server') {
      role = 'server';
      return await runServer(values);
    }
    if (command === 'client') return await runClient(values);
    throw new UsageError('first argument must be server or client');
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      emit('error', { code: 'E2E_USAGE', message: (err as Error).message });
      return EXIT_USAGE;
    }
    emit('error', errorFields(err));
    return EXIT_REFUSED;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
