// Access token for collectors that require one. Open the dashboard once as
// `https://collector:7300/#token=...`; the token is kept in this browser's localStorage and
// removed from the address bar. The dashboard never puts it in a URL it builds: API requests
// carry `Authorization: Bearer …`, the live socket a sub-protocol, reports are fetched with the
// header. Loopback collectors need none for reading.

const KEY = 'assay.token';

function fromHash() {
  const m = /(?:^#|[#&])token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  // Tokens may hold any printable character: `%` typed as is (not as %25) made
  // decodeURIComponent throw, and with it every module that imports this one (a blank page).
  let token = m[1];
  try {
    token = decodeURIComponent(token);
  } catch {
    // not percent-encoded: the token as written
  }
  localStorage.setItem(KEY, token);
  const rest = location.hash.replace(/[#&]?token=[^&]+/, '').replace(/^&/, '#');
  history.replaceState(null, '', location.pathname + location.search + (rest && rest !== '#' ? rest : ''));
  return token;
}

const token = fromHash() ?? localStorage.getItem(KEY);

/** Whether this browser holds a token. */
export function hasToken() {
  return Boolean(token);
}

/** Headers for API requests. */
export function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Sub-protocols for the live socket (browsers cannot set WebSocket headers): `assay.live`, and
 * the token as `assay.bearer.<base64url>`; the collector answers with `assay.live` only.
 */
export function liveProtocols() {
  if (!token) return ['assay.live'];
  const b64url = btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return ['assay.live', `assay.bearer.${b64url}`];
}
