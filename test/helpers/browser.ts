// A real browser for the console tests: Debian's chromium driven by playwright-core (no browser download),
// axe-core injected into each page for accessibility checks.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { REQUIRE_EXTERNAL } from './env.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (REQUIRE_EXTERNAL && !HAVE_CHROMIUM) throw new Error(`REQUIRE_EXTERNAL_SERVICES=1 but there is no chromium at ${CHROMIUM} (apt-get install chromium)`);

const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: ARGS });

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical accessibility violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // evaluated through the debugging protocol, so the page's CSP (no inline scripts) does not block it
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3) }));
  });
  return r
    .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
    .map((v: any) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(', ')}`);
}

/** A page that records CSP violations and script errors, so a test can assert there were none. */
export async function newPage(ctx: BrowserContext): Promise<Page & { problems: string[] }> {
  const page = (await ctx.newPage()) as Page & { problems: string[] };
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    page.problems.push(`dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return page;
}

export async function logIn(page: Page, base: string, login: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel(/Benutzername|User name/).fill(login);
  await page.getByLabel(/^(Passwort|Password)$/).fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: /Anmelden|Log in/ }).click()]);
}
