// Headless Chromium for the browser tests: Debian's `chromium` package (.ci/run installs it)
// driven by playwright-core. A missing browser is a failure with a clear message, never a
// skipped test: install it (`apt-get install chromium`) or point CHROMIUM_PATH at one.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags every browser test runs with: headless, no sandbox (CI runs as root), nothing fetched from outside. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches Chromium with CHROMIUM_ARGS and `extraArgs`; throws a clear error when it is not installed. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: the browser tests need it (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Collects the page's uncaught errors and console errors into `errors` (asserted empty by the tests). */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
}
