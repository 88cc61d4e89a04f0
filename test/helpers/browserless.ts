/**
 * A person without a browser: follows Grantor's login and consent pages over plain HTTP with a
 * cookie jar, reading the hidden form fields out of the HTML. For HTTP-level tests of the
 * authorization code flow; the real browser test is test/e2e/browser.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';

export class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The hidden and named inputs of the first form in a page. */
export function formFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of page.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[decode(name)] = decode(value);
  }
  return fields;
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export class Person {
  readonly jar = new CookieJar();
  /** `headers` go with every request (e.g. a single-entry X-Forwarded-For to come from an address of one's own). */
  constructor(readonly baseUrl: string, readonly headers: Record<string, string> = {}) {}

  async get(pathOrUrl: string): Promise<Response> {
    const res = await fetch(new URL(pathOrUrl, this.baseUrl), { headers: { ...this.headers, Cookie: this.jar.header() }, redirect: 'manual' });
    this.jar.take(res);
    return res;
  }

  async post(path: string, fields: Record<string, string>): Promise<Response> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { ...this.headers, Cookie: this.jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    this.jar.take(res);
    return res;
  }

  /** Opens an authorization URL, signs in if asked, and answers the consent page; returns the final redirect to the app. */
  async authorize(authorizeUrl: string, opts: { username: string; password: string; decision?: 'allow' | 'deny' }): Promise<URL> {
    let res = await this.get(authorizeUrl);
    let page = res.status === 200 ? await res.text() : '';
    if (page.includes('action="/login"')) {
      const f = formFields(page);
      res = await this.post('/login', { ...f, username: opts.username, password: opts.password });
      if (res.status !== 303) throw new Error(`login answered ${res.status}: ${await res.text()}`);
      res = await this.get(res.headers.get('location')!);
      page = res.status === 200 ? await res.text() : '';
    }
    if (page.includes('name="decision"')) {
      const f = formFields(page);
      delete f.decision;
      res = await this.post('/oauth/authorize', { ...f, decision: opts.decision ?? 'allow' });
    }
    if (res.status !== 302 && res.status !== 303) throw new Error(`expected a redirect to the app, got ${res.status}: ${page.slice(0, 500)}`);
    return new URL(res.headers.get('location')!);
  }
}
