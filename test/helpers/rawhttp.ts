// One HTTP/1.1 request written byte for byte (no client normalises the path), over TCP or TLS
// to 127.0.0.1; returns the status, headers and body.
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
  const u = new URL(baseUrl);
  const port = Number(u.port);
  const all: Record<string, string> = { host: u.host, connection: 'close', ...headers };
  if (body || method === 'POST') all['content-length'] = String(Buffer.byteLength(body));
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = u.protocol === 'https:' ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    socket.once(u.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(head + body));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // An upgrade answer keeps the socket open: the head is all there is to read.
      if (/^HTTP\/1\.1 101 /.test(Buffer.concat(chunks).toString('latin1'))) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headText = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const hs: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) hs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status, headers: hs, body: rest.join('\r\n\r\n') });
    });
  });
}

/** The handshake headers of a WebSocket upgrade (for raw upgrade attempts). */
export const upgradeHeaders = (extra: Record<string, string> = {}): Record<string, string> => ({
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  ...extra,
});
