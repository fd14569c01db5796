// The host page in Chromium against a real collector with two live agents: the real agent
// sampling this machine, and a protocol client feeding a synthetic two-GPU trace (a training rank
// beside a GPU miner, bench/synth-gpu.ts) through real ingest, timestamps moved to now. Checks
// the charts' pixels, the process and GPU tables, the evidence summary, order and units, the
// verdict-change marks, and drag-to-zoom; screenshots at 1440x900 and 1366x768 go to
// host-*.png in $TMPDIR/assay-screenshots, or ASSAY_SCREENSHOT_DIR (bench/screenshots holds the committed ones).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, launchChromium } from '../helpers/browser.js';
import { startAgent } from '../../agent/agent.js';
import { writeSyntheticTraces } from '../../bench/synth-gpu.js';
import { CLASS_LOOKS } from '../../collector/classes.js';
import { signalLook, valueText, viewEvidence } from '../../collector/evidence-text.js';
import type { Verdict } from '../../collector/engine/types.js';
import { startCollector } from '../../collector/server.js';
import type { ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { RawAgent } from '../helpers/rawagent.js';

// The committed ones in bench/screenshots come from ASSAY_SCREENSHOT_DIR=bench/screenshots; a
// plain test run leaves the tree clean.
const shotDir = process.env.ASSAY_SCREENSHOT_DIR ?? join(tmpdir(), 'assay-screenshots');

const ENROLL_SECRET = 'host-page-test-secret';
const LABELS: Record<string, string> = Object.fromEntries(Object.entries(CLASS_LOOKS).map(([k, v]) => [k, v.label]));
type Collector = Awaited<ReturnType<typeof startCollector>>;
type Agent = Awaited<ReturnType<typeof startAgent>>;

/** Pixels of the canvas within `tolerance` of the CSS colour in `cssVar` (the series or class colour). */
async function pixelsOfColour(page: Page, selector: string, cssVar: string, tolerance = 40): Promise<number> {
  return page.evaluate(
    ({ sel, name, tol }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(sel);
      if (!canvas || !canvas.width || !canvas.height) return 0;
      const hex = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
      const m = /^#([0-9a-f]{6})$/i.exec(hex);
      if (!m) return -1;
      const n = parseInt(m[1]!, 16);
      const want = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let hits = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! < 200) continue;
        if (Math.abs(data[i]! - want[0]!) + Math.abs(data[i + 1]! - want[1]!) + Math.abs(data[i + 2]! - want[2]!) <= tol) hits++;
      }
      return hits;
    },
    { sel: selector, name: cssVar, tol: tolerance },
  );
}

/** Moves a trace's samples to end `endMs` ago at their own interval. */
function shifted(samples: ISample[], endMs: number, intervalMs: number): ISample[] {
  return samples.map((s, i) => ({ ...s, tsMs: endMs - (samples.length - 1 - i) * intervalMs }));
}

describe('host page in a browser', () => {
  const tmp = tempDir('assay-hostpage-');
  let collector: Collector;
  let agent: Agent | undefined;
  let raw: RawAgent | undefined;
  let browser: Browser;
  const pageErrors: string[] = [];
  let feeding = true;
  let feeder: Promise<void> = Promise.resolve();

  async function newPage(width: number, height: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    collectPageErrors(page, pageErrors);
    await page.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|ws:\/\/127\.0\.0\.1[:/]|data:)/, (route) => {
      pageErrors.push(`external request: ${route.request().url()}`);
      return route.abort();
    });
    return page;
  }

  before(async () => {
    mkdirSync(shotDir, { recursive: true });
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: ENROLL_SECRET });
    agent = await startAgent({ collectorUrl: `ws://127.0.0.1:${collector.port}/ingest`, intervalMs: 500, batchIntervalMs: 1000, stateDir: join(tmp.dir, 'agent'), enrollSecret: ENROLL_SECRET });

    // The synthetic GPU host: 90 s idle, then the mixed trace, sent 5 samples at a time (so the
    // classifier publishes as it would live, class change included), then one sample a second.
    const traces = await writeSyntheticTraces(join(tmp.dir, 'synthetic'));
    const idle = await readTrace(traces.find((f) => f.endsWith('gpu-idle.trace.ndjson'))!);
    const mixed = await readTrace(traces.find((f) => f.endsWith('gpu-mixed-training-and-miner.trace.ndjson'))!);
    const now = Date.now();
    const backlog = [...shifted(idle.samples.slice(0, 90), now - 151_000, 1000), ...shifted(mixed.samples.slice(0, 150), now - 1000, 1000)];
    raw = await RawAgent.connect(`ws://127.0.0.1:${collector.port}/ingest`);
    await raw.hello({ agentId: 'synthetic-gpu', hostname: 'gpu-box', agentVersion: 'test', intervalMs: 1000, inventory: mixed.header.inventory ?? {} }, ENROLL_SECRET);
    let seq = 1;
    for (let i = 0; i < backlog.length; i += 5) {
      const chunk = backlog.slice(i, i + 5);
      await raw.batch(seq, chunk);
      seq += chunk.length;
    }
    const rest = mixed.samples.slice(150);
    feeder = (async () => {
      // Bounded: at most the rest of the trace (450 samples, 1 s apart), stopped by the suite.
      for (let i = 0; i < rest.length && feeding; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        if (!feeding) break;
        await raw!.batch(seq, [{ ...rest[i]!, tsMs: Date.now() }]);
        seq++;
      }
    })();

    browser = await launchChromium();
  });

  after(async () => {
    feeding = false;
    await feeder.catch(() => undefined);
    raw?.close();
    await browser?.close();
    await agent?.stop();
    await collector?.close();
    tmp.cleanup();
  });

  it('a live agent: charts drawn with data, the process table and an evidence summary', async () => {
    for (const [w, hgt] of [
      [1440, 900],
      [1366, 768],
    ] as const) {
      const page = await newPage(w, hgt);
      await page.goto(`${collector.url}/#/hosts/${encodeURIComponent(agent!.agentId)}`);
      await waitFor(() => page.locator('[data-testid="verdict-class"][data-value]').count(), 60_000, 'a verdict');
      const summary = await waitFor(() => page.locator('[data-testid="evidence-summary"]').textContent(), 15_000, 'the evidence summary');
      const cls = (await page.locator('[data-testid="verdict-class"]').getAttribute('data-value'))!;
      assert.ok(summary.endsWith(`: ${LABELS[cls]}`), `the summary ends with the verdict: ${summary}`);

      await waitFor(() => page.locator('[data-testid="process-row"]').count(), 15_000, 'process rows');
      const cpuCells = await page.locator('[data-testid="process-row"] [data-testid="process-cpu"]').allTextContents();
      assert.ok(cpuCells.every((t) => /\d+(\.\d+)? %.*cores/.test(t)), `every CPU cell has a share and cores: ${cpuCells.slice(0, 3).join(' | ')}`);
      const memCells = await page.locator('[data-testid="process-row"] [data-testid="process-mem"]').allTextContents();
      assert.ok(memCells.every((t) => /%.*(B|KiB|MiB|GiB)$/.test(t)), `every memory cell has a share and a size: ${memCells.slice(0, 3).join(' | ')}`);
      // The page's own browser engine is a busy process on this machine: it is in the table, with its executable.
      const exes = await page.locator('[data-testid="process-row"] .proc-name .mono').allTextContents();
      assert.ok(exes.some((e) => e.startsWith('/')), 'executables are shown');

      for (const [name, colour] of [
        ['cpu', '--series-1'],
        ['cpu', '--series-2'],
        ['memory', '--series-3'],
      ] as const) {
        const chart = `[data-testid="chart-${name}"]`;
        await waitFor(async () => Number(await page.locator(chart).getAttribute('data-points')) >= 4, 20_000, `${name} chart data`);
        // The series' own colour on the canvas: a drawn line or fill, not just axes and grid.
        const px = await waitFor(async () => {
          const n = await pixelsOfColour(page, `${chart} canvas`, colour);
          return n > 30 ? n : 0;
        }, 10_000, `${name} series pixels`);
        assert.ok(px > 30, `${name}: ${px} pixels in the series colour`);
      }
      // Axes are labelled on both sides with units (uPlot draws them on the canvas; the chart lists them).
      assert.equal(await page.locator('[data-testid="chart-cpu"]').getAttribute('data-axes'), 'left: CPU (%) | right: load (runnable tasks)');
      assert.equal(await page.locator('[data-testid="chart-memory"]').getAttribute('data-axes'), 'left: memory (bytes) | right: memory (bytes)', 'a lone axis is mirrored on the right');
      await page.screenshot({ path: join(shotDir, `host-live-${w}x${hgt}.png`), fullPage: true });
      await page.close();
    }
    assert.deepEqual(pageErrors, [], 'no page errors, console errors or external requests');
  });

  it('a GPU host: per-GPU rows, each process with its class, libraries, ports and peers; evidence in order with units', async () => {
    const page = await newPage(1440, 900);
    await page.goto(`${collector.url}/#/hosts/synthetic-gpu`);
    await waitFor(async () => (await page.locator('[data-testid="verdict-class"]').getAttribute('data-value')) === 'mixed', 60_000, 'the mixed verdict');

    // GPUs: two rows from the samples' nvidia-smi fields, each with its process.
    await waitFor(async () => (await page.locator('[data-testid="gpu-row"]').count()) === 2, 15_000, 'two GPU rows');
    const gpu1 = page.locator('[data-testid="gpu-row"][data-index="1"]');
    assert.match((await gpu1.locator('[data-testid="gpu-util"]').textContent())!, /^(99|100) %/);
    assert.match((await gpu1.locator('[data-testid="gpu-power"]').textContent())!, /^\d+ Wlimit \d+ W$/);
    assert.match((await gpu1.textContent())!, /lolMiner pid 9100 · 5\.5 GiB/);

    // Processes: the class the engine gave each, the libraries that counted, ports and peers.
    const miner = page.locator('[data-testid="process-row"][data-pid="9100"]');
    const trainer = page.locator('[data-testid="process-row"][data-pid="4100"]');
    await waitFor(async () => (await miner.getAttribute('data-class')) === 'pow-mining' && (await trainer.getAttribute('data-class')) === 'ai-training', 15_000, 'process classes');
    assert.match((await miner.textContent())!, /1 peer: 162\.19\.139\.184:1010/);
    assert.match((await miner.locator('[data-testid="process-gpu"]').textContent())!, /on GPU 1/);
    assert.match((await trainer.textContent())!, /listens :29500/);
    const libs = await trainer.locator('td.libs .chip').allTextContents();
    assert.ok(libs.includes('libcudnn.so.9'), `the trainer's counted libraries: ${libs.join(', ')}`);
    assert.match((await trainer.locator('.proc-name').textContent())!, /python3\/usr\/bin\/python3/);

    // The class change (idle → … → mixed) is marked on the charts in the class colour.
    await waitFor(async () => Number(await page.locator('[data-testid="chart-gpu"]').getAttribute('data-marks')) >= 1, 20_000, 'verdict-change marks');
    const markPx = await waitFor(() => pixelsOfColour(page, '[data-testid="chart-gpu"] canvas', '--class-mixed', 30), 10_000, 'pixels of the mixed class colour');
    assert.ok(markPx > 20, `${markPx} pixels in the mixed colour`);
    await page.screenshot({ path: join(shotDir, 'host-gpu-1440x900.png'), fullPage: true });
    await page.setViewportSize({ width: 1366, height: 768 });
    await waitFor(async () => ((await page.locator('[data-testid="chart-cpu"] canvas').boundingBox())?.width ?? 9999) < 660, 5_000, 'charts resized');
    await page.screenshot({ path: join(shotDir, 'host-gpu-1366x768.png'), fullPage: true });

    // Stop the feed: the current verdict stays, and the page must say exactly what the shared
    // formatter says about it.
    feeding = false;
    await feeder;
    const verdict = (await (await fetch(`${collector.url}/api/hosts/synthetic-gpu`)).json()).verdict as Verdict;
    const expected = viewEvidence(verdict, LABELS);
    assert.match(expected.summary, /^lolMiner \(pid 9100\) holds \d+ % of the busy CPU\/GPU, PoW mining: .*python3 \(pid 4100\) holds \d+ % of the busy CPU\/GPU, AI training: .*: Mixed$|^python3 \(pid 4100\) .*lolMiner \(pid 9100\).*: Mixed$/);
    await waitFor(async () => (await page.locator('[data-testid="evidence-summary"]').textContent()) === expected.summary, 20_000, 'the formatter\'s summary on the page');

    // Order: groups by share, rows by |weight| within each group; units on every numeric value.
    const groups = await page.locator('tbody.evidence-group').evaluateAll((els) =>
      els.map((tb) => ({
        head: tb.querySelector('tr.group-head')?.textContent ?? '',
        rows: Array.from(tb.querySelectorAll('[data-testid="evidence-row"]')).map((r) => ({
          signal: r.getAttribute('data-signal') ?? '',
          role: r.getAttribute('data-role') ?? '',
          value: r.querySelector('[data-testid="evidence-value"]')?.textContent ?? '',
          weight: Number((r.querySelector('td.weight')?.textContent ?? '0').replace('−', '-')),
          note: r.querySelector('[data-testid="evidence-note"]')?.textContent ?? null,
        })),
      })),
    );
    assert.equal(groups.length, expected.groups.length);
    assert.match(groups[0]!.head, /^Host/);
    assert.match(groups[1]!.head, /lolMiner pid 9100.*PoW mining.*holds \d+ % of the busy CPU\/GPU/);
    for (const g of groups) {
      for (let i = 1; i < g.rows.length; i++) assert.ok(Math.abs(g.rows[i - 1]!.weight) >= Math.abs(g.rows[i]!.weight), `${g.head}: row ${i} is not weaker than the one before`);
    }
    const raws = new Map(verdict.evidence.map((e) => [`${e.process?.pid ?? 'host'}|${e.signal}`, e]));
    let numeric = 0;
    for (const [gi, g] of groups.entries()) {
      const pid = expected.groups[gi]!.process?.pid ?? 'host';
      for (const r of g.rows) {
        const e = raws.get(`${pid}|${r.signal}`)!;
        assert.equal(r.value, valueText(e.signal, e.value), `${r.signal} shows its value with the unit the signal table gives`);
        const unit = signalLook(r.signal).unit;
        if (typeof e.value === 'number' && unit !== 'cv' && unit !== 'text' && unit !== 'port') {
          numeric++;
          assert.match(r.value, /\d\s?(%|B|KiB|MiB|GiB|\/s|s|min|h|[a-z]+)/, `${r.signal}: ${r.value} has a unit`);
        }
        if (r.role === 'outweighed') assert.match(r.note ?? '', /^outweighed (by|on this host by) /);
        if (r.role === 'against') assert.match(r.note ?? '', /^counts against /);
      }
    }
    assert.ok(numeric >= 3, `${numeric} numeric values checked`);

    // Drag across the CPU chart: the range becomes that stretch (in the URL), and Reset goes back.
    const over = page.locator('[data-testid="chart-cpu"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await waitFor(() => page.url().includes('from='), 5_000, 'a zoomed range in the URL');
    const [, from, to] = /from=(\d+)&to=(\d+)/.exec(page.url())!;
    assert.ok(Number(to) - Number(from) > 1000 && Number(to) - Number(from) < 15 * 60_000, 'the zoom is a part of the 15 min range');
    await page.locator('[data-testid="range-reset"]').waitFor();
    // The zoom starts inside a class: the timeline shows the verdict in force, not "no verdicts".
    await waitFor(() => page.locator('[data-testid="verdict-timeline"] .timeline-seg').count(), 5_000, 'the verdict in force across the zoom');
    await page.screenshot({ path: join(shotDir, 'host-gpu-zoomed-1366x768.png'), fullPage: false });
    await page.locator('[data-testid="range-reset"]').click();
    await waitFor(() => !page.url().includes('from='), 5_000, 'the preset range back');
    await page.close();
    assert.deepEqual(pageErrors, [], 'no page errors, console errors or external requests');
  });
});
