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
