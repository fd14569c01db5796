// JSON API client. All times are Unix milliseconds.
import { authHeaders } from './token.js';

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
  if (!res.ok) {
    const err = new Error(`${path}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

function range(fromMs, toMs) {
  const q = new URLSearchParams();
  if (Number.isFinite(fromMs)) q.set('from', String(Math.floor(fromMs)));
  if (Number.isFinite(toMs)) q.set('to', String(Math.ceil(toMs)));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const hostPath = (id) => `/api/hosts/${encodeURIComponent(id)}`;

/** → [{ id, hostname, class, confidence, lastSeenMs, online, state, ageMs, trend }]: the first page. */
export async function fetchHosts() {
  const body = await getJson('/api/hosts');
  return Array.isArray(body.hosts) ? body.hosts : [];
}

/** Drops empty values, so a default query is the bare path. */
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * One page of the fleet list. `params`: { limit, offset, sort, order, class, state, q }.
 * → { total, offset, limit, counts: { total, online, offline, classes, nonAi }, hosts }
 */
export function fetchFleetPage(params) {
  return getJson(`/api/fleet${query(params)}`);
}

/** The fleet-wide class-change feed. `params`: { limit, offset, class, q, order }. → { total, changes } */
export function fetchClassChanges(params) {
  return getJson(`/api/class-changes${query(params)}`);
}

/** → { id, hostname, agentVersion, inventory, firstSeenMs, lastSeenMs, online, verdict } */
export function fetchHost(id) {
  return getJson(hostPath(id));
}

/** → [{ seq, tsMs, cpuPct, load1, memUsedBytes, ... }] */
export async function fetchSamples(id, fromMs, toMs) {
  const body = await getJson(`${hostPath(id)}/samples${range(fromMs, toMs)}`);
  return Array.isArray(body.samples) ? body.samples : [];
}

/** → [{ tsMs, class, confidence, scores, evidence, parts }] */
export async function fetchVerdicts(id, fromMs, toMs) {
  const body = await getJson(`${hostPath(id)}/verdicts${range(fromMs, toMs)}`);
  return Array.isArray(body.verdicts) ? body.verdicts : [];
}

/** → { verdicts: [{ tsMs, class, confidence }], prior: { tsMs, class, confidence } | null (the verdict in force at fromMs) } */
export async function fetchVerdictHistory(id, fromMs, toMs) {
  const body = await getJson(`${hostPath(id)}/verdicts${range(fromMs, toMs)}&brief=1`);
  return { verdicts: Array.isArray(body.verdicts) ? body.verdicts : [], prior: body.prior ?? null };
}

/** → { tsMs, fromMs, samples, cores, processesTotal, processes: [...], gpus: [...] } (what each process and GPU holds now) */
export function fetchProcesses(id) {
  return getJson(`${hostPath(id)}/processes`);
}
