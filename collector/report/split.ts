// What part of a verdict is AI, non-AI or neither, and when its non-AI part is doubtful.
import type { VerdictInterval } from './timeline.js';
import { AI_CLASSES, NON_AI_CLASSES } from './types.js';

export const isNonAi = (c: string): boolean => (NON_AI_CLASSES as readonly string[]).includes(c);
export const isAi = (c: string): boolean => (AI_CLASSES as readonly string[]).includes(c);

/** The share of a verdict that is non-AI (or AI): the whole verdict, or its parts for `mixed`. */
export function shareOf(iv: VerdictInterval | null, test: (c: string) => boolean): number {
  if (!iv) return 0;
  if (test(iv.verdict.class)) return 1;
  if (iv.verdict.class !== 'mixed') return 0;
  return Math.min(1, iv.verdict.parts.filter((p) => test(p.class)).reduce((a, p) => a + p.share, 0));
}

/** Is this verdict's non-AI time doubtful (confidence below the threshold)? */
export const doubtful = (iv: VerdictInterval, minConfidence: number): boolean => iv.verdict.confidence < minConfidence;
