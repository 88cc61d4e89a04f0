import { routers } from '../../src/app.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const VERBS = ['get', 'post', 'put', 'patch', 'delete', 'options'];

describe('OpenAPI document', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('is served as OpenAPI 3.1 with the issuer as server', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: app.issuer }]);
  });

  it('lists exactly the routes the app serves, so it cannot drift', async () => {
    const doc = await (await app.request('/openapi.json')).json();
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const verb of Object.keys(item)) if (VERBS.includes(verb)) documented.add(`${verb.toUpperCase()} ${path}`);
    }
    const served = new Set<string>();
    for (const router of routers(app.deps)) {
      for (const layer of router.stack) {
        const methods = layer.methods.filter((m) => m !== 'HEAD');
        // Catch-all layers (router.all answering "wrong method") and router.use middleware are not operations.
        if (methods.length === 0 || methods.length > 2) continue;
        const path = String(layer.path).replace(/:([A-Za-z_]+)/g, '{$1}');
        for (const m of methods) served.add(`${m} ${path}`);
      }
    }
    expect([...served].sort()).toEqual([...documented].sort());
  });

  // Issue #11: with REGISTRATION on, the registration endpoints are served and documented too.
  it.each(['token', 'open'])('lists exactly the routes the app serves with REGISTRATION=%s', async (policy) => {
    const other = await startTestApp({ env: { REGISTRATION: policy } });
    try {
      const doc = await (await other.request('/openapi.json')).json();
      const documented = new Set<string>();
      for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
        for (const verb of Object.keys(item)) if (VERBS.includes(verb)) documented.add(`${verb.toUpperCase()} ${path}`);
      }
      const served = new Set<string>();
      for (const router of routers(other.deps)) {
        for (const layer of router.stack) {
          const methods = layer.methods.filter((m) => m !== 'HEAD');
          if (methods.length === 0 || methods.length > 2) continue;
          for (const m of methods) served.add(`${m} ${String(layer.path).replace(/:([A-Za-z_]+)/g, '{$1}')}`);
        }
      }
      expect([...served].sort()).toEqual([...documented].sort());
      expect(documented).toContain('POST /oauth/register');
    } finally {
      await other.close();
    }
  });

  it('derives admin request bodies from the validating schemas', async () => {
    const doc = await (await app.request('/openapi.json')).json();
    const create = doc.components.schemas.CreateClient;
    expect(create.additionalProperties).toBe(false);
    expect(Object.keys(create.properties).sort()).toEqual(['dpop_bound_access_tokens', 'grant_types', 'jwks', 'jwks_uri', 'name', 'redirect_uris', 'scopes', 'token_endpoint_auth_method', 'type']);
    expect(create.properties.name.description).toMatch(/consent page/);
  });
});
