// Verifies a report file as bytes. A JSON report is verified as it stands. An HTML report must
// hold exactly one embedded report and be byte for byte what the renderer makes of it: a changed
// word in the markup, a second report block, or a block tucked into a comment all fail, since the
// page a person reads is then not the report that was checked.
import { embeddedJsonText, isHtmlReport } from './load.js';
import { PAGE_NAME } from './page-name.js';
import { renderHtml } from './render-html.js';
import type { Report } from './types.js';
import { verifyReport, type VerifyOptions, type VerifyResult } from './verify.js';

/** Where two byte strings first differ, with a little context from each. */
function firstByteDifference(file: Buffer, rendered: Buffer): string {
  let i = 0;
  while (i < file.length && i < rendered.length && file[i] === rendered[i]) i++;
  const line = file.subarray(0, i).toString('utf8').split('\n').length;
  const around = (b: Buffer): string => JSON.stringify(b.subarray(Math.max(0, i - 20), i + 40).toString('utf8'));
  return `byte ${i} (line ${line}): the file has ${around(file)}, the renderer gives ${around(rendered)} (file ${file.length} bytes, rendered ${rendered.length})`;
}

const unreadable = (why: string): VerifyResult => ({ ok: false, failures: [why], passed: [], warnings: [], signer: null, statement: null });

/**
 * The first key that appears twice in one object of a (valid) JSON text, or null. JSON.parse keeps
 * the last one, so a file with a forged `"statement"` first and the genuine one after it verified,
 * signature and all, while a person (or a parser that keeps the first) read the forged one.
 */
export function duplicateKey(text: string): string | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        const keys = stack[stack.length - 1]!;
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] instanceof Set;
  }
  return null;
}

export function verifyReportBytes(bytes: Buffer, opts: VerifyOptions & { fileName?: string } = {}): VerifyResult {
  const text = bytes.toString('utf8');
  if (!isHtmlReport(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return unreadable(`not valid JSON: ${(err as Error).message}`);
    }
    const result = verifyReport(value, opts);
    const twice = duplicateKey(text);
    if (twice !== null) {
      result.failures.push(`the JSON has the key ${JSON.stringify(twice)} twice in one object: readers disagree on which one counts (this check reads the last), so what a person reads may not be what was verified`);
      return { ...result, ok: false };
    }
    // A browser renders a JSON report under such a name as a page: markup in its strings (a
    // hostname an agent chose) would be what a person reads, and none of it was checked.
    if (opts.fileName && PAGE_NAME.test(opts.fileName)) {
      result.failures.push(`${opts.fileName} holds a JSON report, but browsers show a file of that name as a page, rendering markup from the report's strings: name it .json, or verify the HTML report`);
      return { ...result, ok: false };
    }
    return result;
  }
  let value: unknown;
  try {
    value = JSON.parse(embeddedJsonText(text));
  } catch (err) {
    return unreadable(`HTML report unreadable: ${(err as Error).message}`);
  }
  const result = verifyReport(value, opts);
  if (!result.ok && result.failures[0]?.startsWith('not an ')) return result;
  let rendered: Buffer;
  try {
    rendered = Buffer.from(renderHtml(value as Report), 'utf8');
  } catch (err) {
    result.failures.push(`the embedded report cannot be rendered: ${(err as Error).message}`);
    return { ...result, ok: false };
  }
  if (rendered.equals(bytes)) result.passed.push(`the HTML is byte for byte what the renderer makes of its one embedded report (${bytes.length} bytes)`);
  else result.failures.push(`the HTML is not what the renderer makes of its embedded report: the page shows something the report does not say; first difference at ${firstByteDifference(bytes, rendered)}`);
  return { ...result, ok: result.failures.length === 0 };
}
