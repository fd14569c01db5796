// The fields `assay verify` reads, level by level. A field outside these is refused, not skipped:
// the report's signature covers it, so a reader (or a later renderer) could be shown it as if
// verify had checked it. `derived`, `statement` and `thresholds` are compared whole with what
// derive.ts computes (diff.ts), so they need no list here.
const KNOWN: Record<string, readonly string[]> = {
  report: ['format', 'kind', 'generatedMs', 'generator', 'period', 'thresholds', 'rules', 'hosts', 'statement', 'signer', 'signature'],
  period: ['fromMs', 'toMs'],
  rules: ['version', 'sha256', 'data'],
  signer: ['role', 'publicKey', 'fingerprint'],
  host: ['input', 'derived'],
  input: ['identity', 'inventory', 'batches', 'signatures', 'samples', 'verdicts', 'enrolledMs', 'rollups'],
  identity: ['id', 'hostname', 'agentVersion', 'publicKey', 'fingerprint'],
  inventory: ['cpuModel', 'logicalCores', 'memoryTotalBytes', 'gpus', 'kernel'],
  batch: ['header', 'signature', 'receivedMs', 'samples', 'payload', 'context'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line per field verify does not know, naming where it is (at most `max` lines). */
export function unknownFields(report: unknown, max = 20): string[] {
  const out: string[] = [];
  const check = (v: unknown, level: string, at: string): void => {
    if (!isObject(v)) return;
    for (const k of Object.keys(v)) {
      if (out.length >= max) return;
      if (!KNOWN[level]!.includes(k)) out.push(`${at}.${k}: a field verify does not know (it is signed, but nothing checks it)`);
    }
  };
  if (!isObject(report)) return out;
  check(report, 'report', 'report');
  check(report.period, 'period', 'report.period');
  check(report.rules, 'rules', 'report.rules');
  check(report.signer, 'signer', 'report.signer');
  const hosts = Array.isArray(report.hosts) ? report.hosts : [];
  hosts.forEach((h, i) => {
    const at = `report.hosts[${i}]`;
    check(h, 'host', at);
    if (!isObject(h)) return;
    check(h.input, 'input', `${at}.input`);
    if (!isObject(h.input)) return;
    check(h.input.identity, 'identity', `${at}.input.identity`);
    check(h.input.inventory, 'inventory', `${at}.input.inventory`);
    const batches = Array.isArray(h.input.batches) ? h.input.batches : [];
    for (const [j, b] of batches.entries()) {
      if (out.length >= max) break;
      check(b, 'batch', `${at}.input.batches[${j}]`);
    }
  });
  return out;
}
