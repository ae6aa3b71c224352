/**
 * Debian's Chromium, headless, on a new empty profile: the settings every page test uses
 * (the background-networking flags keep it from dialling out of this closed network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export interface HeadlessBrowser {
  page: Page;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchHeadless(): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'meshlet-chromium-'));
  // playwright passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  return {
    page,
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
