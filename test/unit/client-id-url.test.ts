import { clientIdUrlProblem } from '../../src/oauth/client-metadata-document.js';

// draft-ietf-oauth-client-id-metadata-document-00 §3: what a client identifier URL may look like.
describe('clientIdUrlProblem: which client_id URLs name a metadata document', () => {
  const on = { enabled: true, domains: undefined };

  it.each(['https://app.example.com/client.json', 'https://app.example.com/', 'https://app.example.com:8443/a/b?v=1', 'https://[2001:4860::1]/c'])('accepts %s', (url) => {
    expect(clientIdUrlProblem(url, on)).toBeUndefined();
  });

  it.each([
    ['http://app.example.com/client.json', 'https'],
    ['https://app.example.com/client.json#x', 'fragment'],
    ['https://app.example.com/client.json#', 'fragment'],
    ['https://user@app.example.com/client.json', 'username'],
    ['https://user:pw@app.example.com/client.json', 'username'],
    ['https://app.example.com', 'path'],
    ['https://app.example.com?x=1', 'path'],
    ['https://app.example.com/a/../client.json', 'dot segments'],
    ['https://app.example.com/./client.json', 'dot segments'],
    ['https://app.example.com/a/%2E%2e/client.json', 'dot segments'],
    ['https://app.example.com/a/..', 'dot segments'],
    ['https://APP.example.com/client.json', 'normal form'],
    ['https://app.example.com:443/client.json', 'normal form'],
    ['https://app.example.com/a b', 'printable'],
    [`https://app.example.com/${'a'.repeat(600)}`, 'too long'],
  ])('refuses %s (%s)', (url, why) => {
    expect(clientIdUrlProblem(url, on)).toContain(why);
  });

  it('admits only listed domains and their subdomains when limited', () => {
    const limited = { enabled: true, domains: ['example.com'] };
    expect(clientIdUrlProblem('https://example.com/c', limited)).toBeUndefined();
    expect(clientIdUrlProblem('https://apps.example.com/c', limited)).toBeUndefined();
    expect(clientIdUrlProblem('https://evilexample.com/c', limited)).toContain('domain');
    expect(clientIdUrlProblem('https://example.com.evil.net/c', limited)).toContain('domain');
  });

  it('refuses every URL when turned off', () => {
    expect(clientIdUrlProblem('https://app.example.com/client.json', { enabled: false, domains: undefined })).toContain('off');
  });
});
