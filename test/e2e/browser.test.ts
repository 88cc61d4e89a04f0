/**
 * The authorization code flow in a real browser (Debian's chromium driven by playwright-core):
 * a third-party web app using oauth4webapi, Grantor's login, consent and connected-apps pages,
 * and a resource server using Grantor's resource-server module. What a person does, click by click.
 *
 * Needs /usr/bin/chromium: without it the suite fails (it is never skipped).
 */
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../src/registry/users.js';
import { createVerifier } from '../../src/resource-server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startThirdPartyApp, type ThirdPartyApp } from '../helpers/third-party-app.js';

const API = 'https://photos.example.com';
const SCOPES = [
  { name: 'photos:read', description: 'See your photos' },
  { name: 'photos:write', description: 'Upload photos' },
];
const STATUS_LIST_TTL = 1;
const PASSWORD = 'correct horse battery';
const SCREENSHOT = path.join(os.tmpdir(), 'grantor-consent.png');

describe('in a real browser', () => {
  let app: TestApp;
  let api: ResourceApi;
  let thirdParty: ThirdPartyApp;
  let browser: Browser;
  let alice: { id: string };

  beforeAll(async () => {
    browser = await launchChromium();
    app = await startTestApp({ env: { STATUS_LIST_TTL: String(STATUS_LIST_TTL) } });
    await app.resource({ identifier: API, name: 'Photos', scopes: SCOPES });
    alice = await createUser(app.deps, { username: 'alice', password: PASSWORD });
    await createUser(app.deps, { username: 'bob', password: PASSWORD });
    api = await startResourceApi(createVerifier({ issuer: app.issuer, audience: API }));
    thirdParty = await startThirdPartyApp({
      issuer: app.issuer,
      apiUrl: `${api.url}/me`,
      scope: SCOPES.map((s) => s.name).join(' '),
      register: (redirectUri) => app.client({ name: 'Photo Printer', type: 'public', redirect_uris: [redirectUri], scopes: SCOPES.map((s) => s.name) }),
    });
  }, 30_000);

  afterAll(async () => {
    // Each step on its own, so one failure (or a beforeAll that stopped half way) leaves nothing running.
    await browser?.close().catch(() => undefined);
    await thirdParty?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await app?.close();
  });

  /**
   * A fresh browser profile (no cookies) collecting what went wrong on the way: console errors (a
   * CSP violation is one), script errors, failed requests, and error answers from Grantor (but for
   * the favicon the browser asks every site for).
   */
  async function person(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('console', (msg) => {
      // "Failed to load resource" names the page, not the resource: error answers are looked at below.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (url.origin === app.url && url.pathname !== '/favicon.ico' && res.status() >= 400) problems.push(`${res.url()}: ${res.status()}`);
    });
    page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`${req.url()}: ${req.failure()?.errorText}`));
    return { context, page, problems };
  }

  /** Opens the app and signs in on Grantor's login page; ends on the consent page. */
  async function signInThroughTheApp(page: Page, username: string): Promise<void> {
    await page.goto(thirdParty.url);
    expect(page.url().startsWith(`${app.url}/oauth/authorize?`)).toBe(true);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
    await expect(page.locator('main').textContent()).resolves.toContain('Photo Printer wants to access your account');
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(`${app.url}/oauth/authorize?**`), page.click('button[type=submit]')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Allow Photo Printer to access your account?');
  }

  /** Grantor's stylesheet was loaded and applied (not blocked by the CSP): the body is 30rem wide at most. */
  const styled = (page: Page) => page.evaluate<string>('getComputedStyle(document.body).maxWidth'); // a string: the project has no DOM typings

  it('signs in, consents, calls the API, refreshes, and loses access when the person revokes the app', async () => {
    const { context, page, problems } = await person();
    try {
      await signInThroughTheApp(page, 'alice');

      // The consent page names the app, the API and each scope with its description.
      const consent = await page.locator('main').innerText();
      expect(consent).toContain('Signed in as alice');
      expect(consent).toContain('Photo Printer asks to use Photos for you');
      for (const scope of SCOPES) {
        await expect(page.locator('ul.scopes li', { hasText: scope.name }).innerText()).resolves.toBe(`${scope.name} — ${scope.description}`);
      }
      expect(await styled(page)).toBe('480px');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // Allow: back on the app, which redeemed the code and called the API.
      await Promise.all([page.waitForURL(`${thirdParty.url}/callback?**`), page.getByRole('button', { name: 'Allow' }).click()]);
      const back = new URL(page.url());
      expect(back.searchParams.get('iss')).toBe(app.issuer);
      expect(back.searchParams.get('code')).toBeTruthy();
      await expect(page.locator('#outcome').textContent()).resolves.toBe('connected');
      await expect(page.locator('#api-status').textContent()).resolves.toBe('200');
      const answer = JSON.parse((await page.locator('#api-body').textContent())!);
      expect(answer).toMatchObject({ ok: true, claims: { sub: alice.id, aud: API, client_id: thirdParty.clientId, scope: 'photos:read photos:write' } });
      const oldToken = thirdParty.accessTokens[0];

      // The refresh token works.
      await page.goto(`${thirdParty.url}/refresh`);
      await expect(page.locator('#outcome').textContent()).resolves.toBe('refreshed');
      await expect(page.locator('#api-status').textContent()).resolves.toBe('200');
      expect(thirdParty.accessTokens).toHaveLength(2);

      // The connected-apps page lists the app; Revoke takes its access back.
      await page.goto(`${app.url}/account`);
      expect(await styled(page)).toBe('480px');
      const row = page.locator('tbody tr', { hasText: 'Photo Printer' });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.innerText()).resolves.toContain('Photos');
      await Promise.all([page.waitForURL(`${app.url}/account?revoked=1`), row.getByRole('button', { name: 'Revoke' }).click()]);
      const revokedAt = Date.now();
      await expect(page.getByRole('status').textContent()).resolves.toBe('Access revoked.');
      await expect(page.locator('main').innerText()).resolves.toContain('No app has access to your account.');

      // The app can no longer refresh…
      await page.goto(`${thirdParty.url}/refresh`);
      await expect(page.locator('#error').textContent()).resolves.toBe('invalid_grant');

      // …and within the status list's ttl (plus a little) the API refuses the access tokens it still holds.
      const deadline = revokedAt + (STATUS_LIST_TTL + 1.5) * 1000;
      let status = 200;
      while (Date.now() < deadline) {
        status = (await api.get('/me', oldToken)).status;
        if (status === 401) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(401);
      const refused = await api.get('/me', oldToken);
      expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      await page.goto(`${thirdParty.url}/api`);
      await expect(page.locator('#api-status').textContent()).resolves.toBe('401');

      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 40_000);

  it('sends the person back to the app with access_denied when they click Deny', async () => {
    const { context, page, problems } = await person();
    try {
      const tokensBefore = thirdParty.accessTokens.length;
      await signInThroughTheApp(page, 'bob');
      await Promise.all([page.waitForURL(`${thirdParty.url}/callback?**`), page.getByRole('button', { name: 'Deny' }).click()]);
      const back = new URL(page.url());
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('iss')).toBe(app.issuer);
      // The app validated the error response (state and iss) and shows it.
      await expect(page.locator('#error').textContent()).resolves.toBe('access_denied');
      expect(thirdParty.accessTokens).toHaveLength(tokensBefore);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30_000);
});
