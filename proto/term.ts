// Text from agents (hostnames, agent ids, process names, evidence) and from report files is
// attacker-controlled: before it reaches a terminal, control characters (ESC sequences, C0 and
// C1 controls, DEL) and bidirectional overrides become visible escapes. Newlines and tabs stay.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with every terminal control character shown as `\xNN` / `\uNNNN`. */
export function termSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

const LINE_BREAKS = /[\t\n\u0085\u2028\u2029]/g;

/**
 * One line of output built from data (a table row, a verify result, a summary line): newlines and
 * tabs escaped too, so a hostname, a process name or a string in a forged report cannot start a
 * line of its own (a fake `PASS:` under a failing verify, a fake agent row).
 */
export function oneLine(text: string): string {
  return termSafe(text).replace(LINE_BREAKS, escape);
}
