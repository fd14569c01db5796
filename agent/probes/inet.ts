// Decoding of the hex socket addresses in /proc/net/{tcp,tcp6,udp,udp6}.
// The kernel prints each 32-bit word of the address in host byte order; Linux hosts Assay runs on
// (x86_64, arm64) are little-endian, so every 8-hex-digit word is byte-reversed.

/** Bytes of the address in network order, or undefined when the hex is not 8 or 32 digits. */
function addressBytes(hex: string): number[] | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(hex.slice(w + b, w + b + 2), 16));
  }
  return bytes;
}

function formatIpv6(bytes: number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d) is what dual-stack sockets show for IPv4 peers.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: the longest run (>= 2) of zero groups becomes "::", the first one on ties.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** "0100007F" → '127.0.0.1'; undefined when the hex is not an address. */
export function decodeAddress(hex: string): string | undefined {
  const bytes = addressBytes(hex);
  if (!bytes) return undefined;
  return bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes);
}

/**
 * "0100007F:0050" → { address: '127.0.0.1', port: 80 }; undefined when malformed. `addresses`:
 * a memo of decoded address hex (a socket table repeats the same few addresses on every row).
 */
export function decodeEndpoint(field: string, addresses?: Map<string, string | undefined>): { address: string; port: number } | undefined {
  const colon = field.indexOf(':');
  if (colon < 0) return undefined;
  const hex = field.slice(0, colon);
  let address: string | undefined;
  if (addresses === undefined) address = decodeAddress(hex);
  else if (addresses.has(hex)) address = addresses.get(hex);
  else addresses.set(hex, (address = decodeAddress(hex)));
  const port = Number.parseInt(field.slice(colon + 1), 16);
  if (address === undefined || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { address, port };
}

/** TCP state names as in include/net/tcp_states.h (ss(8) spelling). */
const TCP_STATES: Record<number, string> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'NEW_SYN_RECV',
};

export function stateName(protocol: string, hex: string): string {
  const st = Number.parseInt(hex, 16);
  // UDP reuses the TCP codes: 07 (CLOSE) is an unconnected socket, 01 a connect()ed one.
  if (protocol.startsWith('udp')) return st === 0x01 ? 'ESTABLISHED' : 'UNCONN';
  return TCP_STATES[st] ?? `UNKNOWN_${hex}`;
}
