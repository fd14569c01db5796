// The eight workload classes (mirrors collector/engine/types.ts CLASSES) with
// labels. Colours live in style.css as --class-<name> (selected by a data-class
// attribute) so they follow the light/dark theme.

export const CLASSES = [
  'ai-training',
  'ai-inference',
  'chain-validation',
  'storage-proving',
  'pow-mining',
  'mixed',
  'idle',
  'general',
];

const LABELS = {
  'ai-training': 'AI training',
  'ai-inference': 'AI inference',
  'chain-validation': 'Chain validation',
  'storage-proving': 'Storage proving',
  'pow-mining': 'PoW mining',
  mixed: 'Mixed',
  idle: 'Idle',
  general: 'General',
};

export function isKnownClass(cls) {
  return typeof cls === 'string' && CLASSES.includes(cls);
}

/** Human label for a class; unknown classes are shown as-is (as text). */
export function classLabel(cls) {
  if (cls === null || cls === undefined) return 'Pending';
  return LABELS[cls] ?? String(cls);
}
