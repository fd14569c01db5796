// Host view (#/hosts/<id>[?range=1h | ?from=<ms>&to=<ms>]): composes the page's sections
// (views/host/: header, verdict and inventory, evidence, processes, GPUs, activity) and feeds
// them one state object per refresh. Each section owns its markup; this file owns the data.

import { h, setText } from '../dom.js';
import { fetchHost, fetchProcesses, fetchSamples, fetchVerdictHistory } from '../api.js';
import { headerSection } from './host/header.js';
import { verdictSection } from './host/verdict.js';
import { evidenceSection } from './host/evidence.js';
import { processesSection } from './host/processes.js';
import { gpusSection } from './host/gpus.js';
import { activitySection } from './host/activity.js';
import { RANGES } from './host/chart-defs.js';

/** The range in the URL: a preset, or a fixed from/to (a zoom). */
function rangeFromParams(params) {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (Number.isFinite(from) && Number.isFinite(to) && to > from && from > 0) return { preset: null, fromMs: from, toMs: to };
  return { preset: RANGES.find((r) => r.id === params.get('range')) ?? RANGES[0] };
}

/** Mounts the host view. Returns { title, destroy }. */
export function mountHost(root, feed, hostId, params) {
  let destroyed = false;
  let range = rangeFromParams(params);
  // Where "Reset zoom" goes back to: the preset the zoom was made from.
  let lastPreset = range.preset ?? RANGES[0];
  let refreshTimer = null;
  let hintTimer = null;
  let inFlight = null;
  let queued = false;
  let lastRefreshMs = 0;

  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const header = headerSection(hostId);
  const verdict = verdictSection();
  const evidence = evidenceSection();
  const processes = processesSection();
  const gpus = gpusSection();
  const activity = activitySection({
    onPreset: (r) => setRange({ preset: r }),
    onZoom: (fromMs, toMs) => setRange({ preset: null, fromMs, toMs }),
    onReset: () => setRange({ preset: lastPreset }),
  });
  const sections = [header, verdict, evidence, processes, gpus, activity];
  root.append(...header.el, error, verdict.el, evidence.el, processes.el, gpus.el, activity.el);

  function period() {
    if (!range.preset) return { fromMs: range.fromMs, toMs: range.toMs };
    const toMs = Date.now();
    return { fromMs: toMs - range.preset.ms, toMs };
  }

  async function load() {
    const { fromMs, toMs } = period();
    const [host, samples, history, procs] = await Promise.all([
      fetchHost(hostId),
      fetchSamples(hostId, fromMs, toMs),
      fetchVerdictHistory(hostId, fromMs, toMs).catch(() => ({ verdicts: [], prior: null })),
      fetchProcesses(hostId).catch(() => null),
    ]);
    const verdicts = history.prior ? [history.prior, ...history.verdicts] : history.verdicts;
    if (destroyed) return;
    error.hidden = true;
    // A host younger than a preset range is drawn from its first sighting (at least a minute),
    // so a new host's data is not a sliver at the right edge. A zoom is drawn as chosen.
    const firstMs = Number.isFinite(host.firstSeenMs) ? host.firstSeenMs - 2000 : fromMs;
    const startMs = range.preset ? Math.max(fromMs, Math.min(firstMs, toMs - 60_000)) : fromMs;
    const state = { host, samples, verdicts, processes: procs, fromMs: startMs, toMs, preset: range.preset };
    for (const s of sections) s.render(state);
  }

  function refresh() {
    if (inFlight) {
      // A range change while loading must not be lost: load once more when this one ends.
      queued = true;
      return inFlight;
    }
    lastRefreshMs = Date.now();
    inFlight = load()
      .catch((err) => {
        if (destroyed) return;
        error.hidden = false;
        setText(error, err.status === 404 ? `No host with id ${hostId}.` : `Could not load host data (${err.message}). Retrying…`);
      })
      .finally(() => {
        inFlight = null;
        if (queued && !destroyed) {
          queued = false;
          refresh();
        }
      });
    return inFlight;
  }

  function schedule() {
    clearInterval(refreshTimer);
    refreshTimer = setInterval(() => {
      if (!document.hidden) refresh();
    }, range.preset?.refreshMs ?? 30_000);
  }

  function setRange(r) {
    range = r;
    if (r.preset) lastPreset = r.preset;
    const q = r.preset ? (r.preset === RANGES[0] ? '' : `?range=${r.preset.id}`) : `?from=${Math.round(r.fromMs)}&to=${Math.round(r.toMs)}`;
    history.replaceState(null, '', `#/hosts/${encodeURIComponent(hostId)}${q}`);
    schedule();
    refresh();
  }

  const offHint = feed.onHostHint((id) => {
    // Hints can arrive every second; short live ranges follow them, long ones and zooms wait for the timer.
    if (id !== hostId || hintTimer || !range.preset || range.preset.ms > 60 * 60_000 || document.hidden) return;
    if (Date.now() - lastRefreshMs < 2000) return;
    hintTimer = setTimeout(() => {
      hintTimer = null;
      refresh();
    }, 1000);
  });

  refresh();
  schedule();

  return {
    title: hostId,
    destroy() {
      destroyed = true;
      clearInterval(refreshTimer);
      clearTimeout(hintTimer);
      offHint();
      for (const s of sections) s.destroy?.();
    },
  };
}
