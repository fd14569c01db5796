// Opens a report page in headless Chromium: which plots drew pixels, page errors, a screenshot.
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';

export async function openReport<T = undefined>(
  file: string,
  screenshot: string,
  inspect?: (page: Page) => Promise<T>,
): Promise<{ drawn: Record<string, boolean>; errors: string[]; notes: number; extra: T }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Offline: the page must not fetch anything.
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (errors.push(`fetched ${route.request().url()}`), route.abort())));
    await page.goto(`file://${file}`);
    await page.waitForSelector('html[data-plots="ready"]', { timeout: 15_000 });
    const drawn = await page.evaluate(() => {
      const out: Record<string, boolean> = {};
      for (const name of ['cpu', 'gpu', 'power']) {
        const canvas = document.querySelector<HTMLCanvasElement>(`#plot-${name}-0 canvas`);
        let painted = 0;
        if (canvas && canvas.width && canvas.height) {
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
        }
        out[name] = painted > 500;
      }
      return out;
    });
    const notes = await page.locator('.plot p.muted').count();
    const extra = (inspect ? await inspect(page) : undefined) as T;
    await page.screenshot({ path: screenshot, fullPage: true });
    return { drawn, errors, notes, extra };
  } finally {
    await browser.close();
  }
}
