import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot, tempDir } from '../helpers/fixtures.js';

/**
 * Headless Chromium (the Debian package) through playwright-core, with a fresh profile each time.
 * Collects console errors (a CSP refusal shows up there) and saves screenshots as test artifacts.
 */
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'web-ui');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (CSP violations, failed requests, exceptions). */
  problems: string[];
  shot: (name: string, page?: Page) => Promise<string>;
  close: () => Promise<void>;
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(opts: { width?: number; height?: number; locale?: string } = {}): Promise<Browser> {
  const { dir, cleanup } = await tempDir('praxisbox-chromium-');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 },
    locale: opts.locale ?? 'de-DE',
    acceptDownloads: true,
  });
  const problems: string[] = [];
  const watch = (page: Page): void => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  await fs.mkdir(artifactsDir, { recursive: true });
  return {
    context,
    page,
    problems,
    shot: async (name, p = page) => {
      const file = path.join(artifactsDir, `${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: async () => {
      await context.close();
      await cleanup();
    },
  };
}

const require = createRequire(import.meta.url);

/** axe-core's serious and critical findings on the current page (WCAG 2 A/AA rules). */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = await fs.readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) does not apply.
  await page.evaluate(source);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
