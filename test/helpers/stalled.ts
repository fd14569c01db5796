// Hostile pre-authentication clients for limit tests and the stalled-connections bench: raw TCP
// sockets that send nothing, and WebSocket connections that stop in the middle of a frame.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface HeldSocket {
  socket: Socket;
  /** Resolves when the collector (or anything) closes the socket, with the ms it stayed open. */
  closed: Promise<number>;
}

function hold(socket: Socket): HeldSocket {
  const t0 = Date.now();
  socket.on('error', () => undefined);
  return { socket, closed: new Promise((r) => socket.once('close', () => r(Date.now() - t0))) };
}

/** A TCP connection that sends nothing. */
export function idleSocket(port: number, localAddress = '127.0.0.1'): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(hold(s)));
    s.once('error', reject);
  });
}

/** A masked client frame header announcing a binary frame of `length` bytes (RFC 6455 §5.2). */
export function frameHeader(length: number): Buffer {
  const mask = randomBytes(4);
  if (length < 126) return Buffer.concat([Buffer.from([0x82, 0x80 | length]), mask]);
  if (length < 65536) {
    const b = Buffer.from([0x82, 0x80 | 126, 0, 0]);
    b.writeUInt16BE(length, 2);
    return Buffer.concat([b, mask]);
  }
  const b = Buffer.alloc(10);
  b[0] = 0x82;
  b[1] = 0x80 | 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([b, mask]);
}

/**
 * Upgrades to /ingest, then announces a frame of `declaredBytes` and sends only `sentBytes` of
 * it, and stalls. Resolves once the bytes are written; `upgraded` says whether the 101 came.
 */
export function stalledFrame(port: number, declaredBytes: number, sentBytes: number, localAddress = '127.0.0.1'): Promise<HeldSocket & { upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    const held = hold(s);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.resume(); // keep reading (the challenge, a close frame) so nothing backs up on our side
      const upgraded = head.startsWith('HTTP/1.1 101');
      if (!upgraded) return resolve({ ...held, upgraded });
      s.write(Buffer.concat([frameHeader(declaredBytes), Buffer.alloc(sentBytes, 0x41)]), () => resolve({ ...held, upgraded }));
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('connect', () =>
      s.write(
        `GET /ingest HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    s.once('close', () => resolve({ ...held, upgraded: false }));
  });
}
