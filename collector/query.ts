// Query-string numbers, read strictly. `Number()` reads ' ' as 0, '0x10' as 16, '1e3' as 1000 and
// a parameter given twice (an array) as NaN or its only element: a careless or hostile URL got a
// page nobody asked for instead of an answer saying what is wrong.

export class QueryError extends Error {
  readonly statusCode = 400;
}

/** A whole number in [min, max] written in plain decimal digits; `dflt` when absent or empty. */
export function queryInt(v: unknown, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  if (typeof v !== 'string') throw new QueryError(`query parameter ${name} must be given once`);
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new QueryError(`query parameter ${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** A single string parameter (a repeated one is an error, not its first or last value). */
export function queryString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new QueryError(`query parameter ${name} must be given once`);
  return v;
}
