// Which verdicts count as non-AI work for the fleet view, the feed, the webhook and the alerting
// gauge: a non-AI class (the report's list, report/types.ts), or `mixed` with a non-AI part
// (training beside inference is mixed too, and is not non-AI).
import type { Verdict } from './engine/types.js';
import { NON_AI_CLASSES } from './report/types.js';

export const isNonAiClass = (c: string | null | undefined): boolean => c !== null && c !== undefined && (NON_AI_CLASSES as readonly string[]).includes(c);

export function verdictIsNonAi(v: Pick<Verdict, 'class' | 'parts'> | null | undefined): boolean {
  if (!v) return false;
  if (isNonAiClass(v.class)) return true;
  return v.class === 'mixed' && (v.parts ?? []).some((p) => isNonAiClass(p.class));
}

const sqlList = NON_AI_CLASSES.map((c) => `'${c}'`).join(', ');

/** The same test in SQLite over a class column and a verdict JSON column (for migrations). */
export function nonAiSql(classCol: string, verdictCol: string): string {
  return `(${classCol} IN (${sqlList}) OR (${classCol} = 'mixed' AND EXISTS (SELECT 1 FROM json_each(${verdictCol}, '$.parts') WHERE json_extract(value, '$.class') IN (${sqlList}))))`;
}

/** The same test in PostgreSQL over a class column and a verdict JSON (text) column, as 0 or 1 (for migrations). */
export function nonAiPgSql(classCol: string, verdictCol: string): string {
  return `(CASE WHEN ${classCol} IN (${sqlList}) OR (${classCol} = 'mixed' AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${verdictCol}::jsonb -> 'parts', '[]'::jsonb)) AS p(part) WHERE p.part ->> 'class' IN (${sqlList}))) THEN 1 ELSE 0 END)`;
}
