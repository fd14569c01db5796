// Access token for collectors bound to a non-loopback address. Open the dashboard once as
// `https://collector:7300/#token=...`; the token is kept in this browser's localStorage and
// removed from the address bar. Loopback collectors need none.

const KEY = 'assay.token';

function fromHash() {
  const m = /(?:^#|[#&])token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  const token = decodeURIComponent(m[1]);
  localStorage.setItem(KEY, token);
  const rest = location.hash.replace(/[#&]?token=[^&]+/, '').replace(/^&/, '#');
  history.replaceState(null, '', location.pathname + location.search + (rest && rest !== '#' ? rest : ''));
  return token;
}

const token = fromHash() ?? localStorage.getItem(KEY);

/** Headers for API requests. */
export function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Query suffix for the live socket (browsers cannot set WebSocket headers). */
export function authQuery() {
  return token ? `?token=${encodeURIComponent(token)}` : '';
}
