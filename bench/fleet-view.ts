// Fleet view at 5,000 hosts: generates a fleet across every class (some offline, some pending)
// into a real SQLite store, starts a collector on it, measures the fleet API's query times
// (p50/p95 per query shape, client-side over HTTP on 127.0.0.1) and the dashboard's first render
// in headless Chromium (navigation start to the first page of rows and the tiles on screen), and
// saves screenshots for people to look at.
//
//   npm run build && node dist/bench/fleet-view.js [--hosts 5000] [--samples 60] [--changes 100000] [--runs 40] [--renders 5]
//
// --samples: stored samples per host over its last 10 minutes (60 = one every 10 s). The fleet
// list's sparklines are read from the store only the first time a host is shown after a start
// (then kept in memory by ingest): the first request's time is printed apart as "cold".
// --changes: the class-change feed is filled up to this many rows (its cap is 100,000), as a
// fleet that ran for a long time would have it.
//
// Screenshots: bench/screenshots/fleet-*.png (ASSAY_SCREENSHOT_DIR overrides the folder).
import { mkdirSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import Database from 'better-sqlite3';
import { startCollector } from '../collector/server.js';
import { CLASSES } from '../collector/engine/types.js';
import { isNonAiClass } from '../collector/non-ai.js';
import { defaultFleetSpec, generateFleet, type GeneratedHost } from '../test/helpers/fleet.js';
import { repoRoot, tempDir } from '../test/helpers/env.js';

const { values: args } = parseArgs({ options: { hosts: { type: 'string', default: '5000' }, samples: { type: 'string', default: '60' }, changes: { type: 'string', default: '100000' }, runs: { type: 'string', default: '40' }, renders: { type: 'string', default: '5' } } });
const HOSTS = Number(args.hosts);
const SAMPLES = Number(args.samples);
const CHANGES = Number(args.changes);
const RUNS = Number(args.runs);
const RENDERS = Number(args.renders);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shotDir = process.env.ASSAY_SCREENSHOT_DIR ?? join(repoRoot, 'bench', 'screenshots');

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/** Older class changes (hours to days back) up to `total` rows; returns the rows in the feed. */
function fillClassChanges(dbPath: string, hosts: GeneratedHost[], total: number, nowMs: number): number {
  const db = new Database(dbPath);
  try {
    const have = (db.prepare('SELECT COUNT(*) AS n FROM class_changes').get() as { n: number }).n;
    const ins = db.prepare('INSERT INTO class_changes (host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai) VALUES (?, ?, ?, ?, 0.6, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < total - have; i++) {
        const from = CLASSES[i % CLASSES.length]!;
        const to = CLASSES[(i * 3 + 1) % CLASSES.length]!;
        // Oldest first, so ids follow time as they would.
        ins.run(hosts[i % hosts.length]!.id, nowMs - 7 * 86_400_000 + i * 5000, from, to, isNonAiClass(to) ? 1 : 0, isNonAiClass(from) ? 1 : 0);
      }
    })();
    return (db.prepare('SELECT COUNT(*) AS n FROM class_changes').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const tmp = tempDir('assay-fleet-bench-');
  const dbPath = join(tmp.dir, 'assay.db');
  const nowMs = Date.now();
  const t0 = performance.now();
  const hosts = await generateFleet(dbPath, { ...defaultFleetSpec(nowMs), hosts: HOSTS, samplesPerHost: SAMPLES });
  const genMs = performance.now() - t0;
  const offline = hosts.filter((h) => !h.online).length;
  const changes = fillClassChanges(dbPath, hosts, CHANGES, nowMs);
  console.log(`fleet: ${hosts.length} hosts (${offline} offline, ${hosts.filter((h) => h.class === null).length} pending), ${SAMPLES} samples each, generated in ${(genMs / 1000).toFixed(1)} s`);
  console.log(`class-change feed: ${changes} rows`);
  console.log(`machine: ${cpus().length} CPUs, loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // Generated online hosts sent data within the last 10 s of `nowMs`: a 1 h online window keeps
  // them online while the bench runs (offline ones are 2 h+ old).
  const collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: 'fleet-bench-enroll-secret', onlineWithinMs: 3600_000 });
  const shapes: Array<[string, string]> = [
    ['first page (default: online first)', '/api/fleet'],
    ['sort by hostname', '/api/fleet?sort=hostname'],
    ['sort by last seen, desc, page 98', '/api/fleet?sort=lastSeen&order=desc&offset=4850'],
    ['class filter (online pow-mining)', '/api/fleet?class=pow-mining&state=online'],
    ['offline tile', '/api/fleet?state=offline'],
    ['search "fra1-00"', '/api/fleet?q=fra1-00'],
    ['search, no match', '/api/fleet?q=nothing-matches'],
    ['class changes (non-AI first)', '/api/class-changes'],
    ['class changes, class + search', '/api/class-changes?class=pow-mining&q=gpu'],
    ['class changes, newest first, page 50', '/api/class-changes?order=time&offset=1000'],
    ['class changes, a class with few rows', '/api/class-changes?class=idle&q=fra1-001'],
    // Not the fleet page's query: the whole fleet that /live's first frame also carries (informational).
    ['whole fleet (GET /api/hosts; not limited)', '/api/hosts'],
  ];
  let failures = 0;
  try {
    {
      const s = performance.now();
      const res = await fetch(collector.url + '/api/fleet');
      await res.json();
      console.log(`\nfirst page right after start (cold: its 50 sparklines read from the store): ${ms(performance.now() - s)}`);
    }
    console.log(`\nAPI query times over HTTP (${RUNS} runs each after 5 warm-ups; limit 100 ms):`);
    for (const [name, path] of shapes) {
      const times: number[] = [];
      let body: { total?: number; hosts?: unknown[]; changes?: unknown[] } = {};
      for (let i = 0; i < RUNS + 5; i++) {
        const s = performance.now();
        const res = await fetch(collector.url + path);
        body = (await res.json()) as typeof body;
        if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
        if (i >= 5) times.push(performance.now() - s);
      }
      const p95 = pct(times, 95);
      const limited = path !== '/api/hosts';
      if (limited && p95 > 100) failures++;
      console.log(`  ${name.padEnd(38)} p50 ${ms(pct(times, 50)).padStart(9)}  p95 ${ms(p95).padStart(9)}  (${(body.hosts ?? body.changes ?? []).length} rows${body.total !== undefined ? ` of ${body.total}` : ''})${limited && p95 > 100 ? '  OVER 100 ms' : ''}`);
    }

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const renders: number[] = [];
      for (let i = 0; i < RENDERS; i++) {
        // A fresh context each time: no cached scripts (a first visit).
        const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(`${collector.url}/#/`, { waitUntil: 'commit' });
        // Navigation start to: 50 rows and the tiles' counts on screen (polled every frame).
        const handle = await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="host-row"]').length >= 50 && /hosts ·/.test(document.querySelector('[data-testid="fleet-totals"]')?.textContent ?? '') && performance.now(),
          undefined,
          { polling: 'raf', timeout: 30_000 },
        );
        renders.push((await handle.jsonValue()) as number);
        await ctx.close();
      }
      const p50 = pct(renders, 50);
      if (p50 > 1000) failures++;
      console.log(`\nfirst render in Chromium at 1440x900 (navigation start to 50 rows + tiles, ${RENDERS} cold loads; limit 1 s): p50 ${ms(p50)}, max ${ms(Math.max(...renders))}${p50 > 1000 ? '  OVER 1 s' : ''}`);

      mkdirSync(shotDir, { recursive: true });
      const shots: Array<[string, number, number, string]> = [
        ['fleet-1440x900.png', 1440, 900, '/#/'],
        ['fleet-1366x768.png', 1366, 768, '/#/'],
        ['fleet-offline-1440x900.png', 1440, 900, '/#/?state=offline'],
        ['fleet-pow-mining-search-1366x768.png', 1366, 768, '/#/?class=pow-mining&q=fra1&feed=pow-mining'],
        ['fleet-page-3-by-hostname-1440x900.png', 1440, 900, '/#/?sort=hostname&page=3'],
      ];
      for (const [file, width, height, hash] of shots) {
        const ctx = await browser.newContext({ viewport: { width, height } });
        const page = await ctx.newPage();
        await page.goto(collector.url + hash);
        await page.waitForFunction(() => document.querySelector('.view')?.getAttribute('data-loaded') !== null && document.querySelectorAll('[data-testid="feed-item"]').length > 0);
        // Let the sparklines and the feed settle.
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(shotDir, file) });
        await ctx.close();
        console.log(`screenshot: ${join(shotDir, file)}`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    await collector.close();
    tmp.cleanup();
  }
  console.log(`loadavg at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (failures) {
    console.log(`${failures} figure(s) over their limit`);
    process.exitCode = 1;
  }
}

await main();
