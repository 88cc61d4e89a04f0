/**
 * Keeps the direction of dependencies honest (../shared/STYLE.md): each file's relative imports
 * must point to a folder its own folder may use.
 */
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve('src');
const EVERYONE = ['errors', 'lib', 'config'];
const ALLOWED: Record<string, string[] | '*'> = {
  main: ['app', 'deps'],
  app: ['deps', 'http', 'admin', 'oauth', 'keys', 'openapi', 'revocation', 'pages', 'ssf'],
  deps: '*',
  http: ['tokens', 'store'],
  admin: ['http', 'registry', 'oauth', 'revocation', 'keys', 'tokens', 'store'],
  cli: ['registry', 'oauth', 'revocation', 'keys', 'tokens', 'store'],
  pages: ['http', 'registry', 'oauth', 'revocation', 'tokens', 'store'],
  // resource-server: one DPoP proof check (RFC 9449 §4.3) for the token endpoint and for APIs.
  oauth: ['http', 'registry', 'revocation', 'tokens', 'keys', 'store', 'resource-server', 'outbound'],
  openapi: ['registry', 'revocation', 'ssf'],
  // Issue #13: the Shared Signals transmitter; revocation feeds it through the store's outbox.
  ssf: ['http', 'oauth', 'registry', 'keys', 'store', 'outbound'],
  revocation: ['http', 'tokens', 'store', 'keys'],
  registry: ['store', 'revocation'],
  tokens: ['keys'],
  keys: ['http', 'store'],
  store: [],
  outbound: [],
  errors: [],
  lib: [],
  config: [],
};

/** Import and re-export statements at the start of a line (not examples inside comments). */
const IMPORT = /^(?:import|export)\b[^;]*?from '([^']+)'/gm;

function domainOf(file: string): string {
  const rel = path.relative(SRC, file);
  const first = rel.split(path.sep)[0];
  return first.replace(/\.(ts|js)$/, '');
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('architecture', () => {
  const files = sourceFiles(SRC);

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files.map((f) => [path.relative(SRC, f), f]))('%s imports only along the allowed arrows', (_rel, file) => {
    const from = domainOf(file);
    const text = fs.readFileSync(file, 'utf8');
    const imports = [...text.matchAll(IMPORT)].map((m) => m[1]).filter((spec) => spec.startsWith('.'));
    const bad: string[] = [];
    for (const spec of imports) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(SRC)) {
        if (from !== 'store') bad.push(spec); // only the store reads db/migrations
        continue;
      }
      const to = domainOf(target);
      if (to === from || EVERYONE.includes(to)) continue;
      const allowed = ALLOWED[from];
      if (allowed === undefined) bad.push(`${spec} (folder ${from} has no entry in the table)`);
      else if (allowed !== '*' && !allowed.includes(to)) bad.push(spec);
    }
    expect(bad).toEqual([]);
  });

  // Issue #10: Grantor accepts its own access tokens in one place, which checks the grant and the
  // client as well as the signature. A second reader of them is how a revoked token got through.
  it('reads Grantor\'s own access tokens only through oauth/accept-access-token.ts (and identify-token.ts for revocation)', () => {
    const readers: Record<string, string[]> = { verifyAccessToken: ['oauth/accept-access-token.ts'], readAccessToken: ['oauth/identify-token.ts'] };
    for (const [fn, allowed] of Object.entries(readers)) {
      const users = files
        .filter((f) => !f.endsWith(path.join('tokens', 'access-token.ts')))
        .filter((f) => new RegExp(`\\b${fn}\\b`).test(fs.readFileSync(f, 'utf8')))
        .map((f) => path.relative(SRC, f).split(path.sep).join('/'));
      expect({ fn, users }).toEqual({ fn, users: allowed });
    }
  });

  it('gives every bearerAuth() acceptAccessToken as its one check', () => {
    const users = files.filter((f) => /\bbearerAuth\(/.test(fs.readFileSync(f, 'utf8')) && !f.endsWith(path.join('http', 'bearer-auth.ts')));
    expect(users.length).toBeGreaterThan(0);
    for (const file of users) {
      const text = fs.readFileSync(file, 'utf8');
      const accepts = [...text.matchAll(/\baccept:\s*([^\n]*)/g)].map((m) => m[1]);
      expect({ file, accepts: accepts.every((a) => /acceptAccessToken\(/.test(a)) && accepts.length >= (text.match(/\bbearerAuth\(/g) ?? []).length }).toEqual({ file, accepts: true });
    }
  });

  it('keeps resource-server/ importable alone: it imports jose and node only', () => {
    const rs = files.filter((f) => domainOf(f) === 'resource-server');
    for (const file of rs) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1];
        const ok = spec === 'jose' || spec.startsWith('node:') || (spec.startsWith('./') && !spec.includes('..'));
        expect({ file, spec, ok }).toEqual({ file, spec, ok: true });
      }
    }
  });
});
