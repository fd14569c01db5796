// Which file names a browser opens as a web page: a JSON report is never written under one (a
// browser would render markup from its strings), and verify refuses one that is (verify-file.ts).

/** Names browsers open as a page (file:// and web servers go by the extension). */
export const PAGE_NAME = /\.(?:html?|xhtml?|xht|shtml)$/i;

/**
 * Refuses to write a JSON report under a page name (`flag` names the option): verify fails such a
 * file, and a browser opening it renders markup from the report's strings (a hostname an agent chose).
 */
export function checkJsonReportName(file: string, flag: string): void {
  if (PAGE_NAME.test(file)) throw new Error(`${flag} ${file} is named as a web page: a browser would open the JSON report as a page and render markup from agents' strings (assay verify refuses it). Name it .json, or write the HTML report`);
}
