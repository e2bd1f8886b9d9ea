// Debian's chromium through playwright-core, and axe-core run in its pages: shared by the browser
// tests (/pay, the console). Chromium is not on a machine until `.ci/run` installs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless, and without the background connections this closed network refuses. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string }>;
}

/** axe-core's serious and critical violations on the page as it is now (first three nodes of each). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (no inline or eval'd script) stands.
  await page.evaluate(AXE);
  const { violations, passed } = (await page.evaluate(
    'axe.run(document).then((r) => ({ violations: r.violations, passed: r.passes.length }))',
  )) as { violations: AxeViolation[]; passed: number };
  // axe did look: the page passed rules (colour contrast, labels, landmarks...) too.
  expect(passed).toBeGreaterThan(10);
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ ...violation, nodes: violation.nodes.slice(0, 3) }));
}
