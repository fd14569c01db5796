// Strict booleans for options from the environment and config files: `ASSAY_ALLOW_PLAIN=false`
// must mean false, and `=maybe` must stop startup instead of meaning true.
const WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, 1: true, 0: false, yes: true, no: false, on: true, off: false };

/** true/false/1/0/yes/no/on/off (any case); anything else throws naming `name` and the value. */
export function parseBool(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'string') {
    const v = WORDS[String(value).trim().toLowerCase()];
    if (v !== undefined) return v;
  }
  throw new Error(`${name}: ${JSON.stringify(value)} is not a boolean (use true/false, 1/0, yes/no or on/off)`);
}
