// The workload classes with labels, from their one source (collector/classes.ts, written to
// generated/classes.js by the build). Colours are the --class-<name> properties of
// generated/classes.css (selected by a data-class attribute) so they follow the light/dark theme.
import { CLASSES, CLASS_LABELS } from './generated/classes.js';

export { CLASSES };

export function isKnownClass(cls) {
  return typeof cls === 'string' && CLASSES.includes(cls);
}

/** Human label for a class; unknown classes are shown as-is (as text). */
export function classLabel(cls) {
  if (cls === null || cls === undefined) return 'Pending';
  return CLASSES.includes(cls) ? CLASS_LABELS[cls] : String(cls);
}
