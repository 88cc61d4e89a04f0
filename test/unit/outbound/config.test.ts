import { ConfigError, loadConfig } from '../../../src/config.js';

describe('outbound settings (OUTBOUND_ALLOWED_HOSTS, OUTBOUND_TIMEOUT, CLIENT_METADATA_DOCUMENTS)', () => {
  it('defaults: no host past the address checks, 5 s, metadata documents on for any domain', () => {
    const c = loadConfig({});
    expect([...c.outbound.allowedHosts]).toEqual([]);
    expect(c.outbound.timeoutMs).toBe(5000);
    expect(c.clientMetadataDocuments).toEqual({ enabled: true, domains: undefined });
  });

  it('reads hosts and host:port entries, lower-cased', () => {
    const c = loadConfig({ OUTBOUND_ALLOWED_HOSTS: 'Apps.Internal, localhost:8443,[::1]:9443, 10.0.0.5' });
    expect([...c.outbound.allowedHosts]).toEqual(['apps.internal', 'localhost:8443', '[::1]:9443', '10.0.0.5']);
  });

  it.each(['https://apps.internal', 'apps.internal/path', 'host:99999', 'a b', '::1'])('refuses OUTBOUND_ALLOWED_HOSTS=%j, naming the setting', (value) => {
    expect(() => loadConfig({ OUTBOUND_ALLOWED_HOSTS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ OUTBOUND_ALLOWED_HOSTS: value })).toThrow(/OUTBOUND_ALLOWED_HOSTS/);
  });

  it('turns metadata documents off, or limits them to listed domains', () => {
    expect(loadConfig({ CLIENT_METADATA_DOCUMENTS: 'off' }).clientMetadataDocuments).toEqual({ enabled: false, domains: undefined });
    expect(loadConfig({ CLIENT_METADATA_DOCUMENTS: 'Example.com, apps.example.org' }).clientMetadataDocuments).toEqual({ enabled: true, domains: ['example.com', 'apps.example.org'] });
    expect(() => loadConfig({ CLIENT_METADATA_DOCUMENTS: 'https://example.com' })).toThrow(/CLIENT_METADATA_DOCUMENTS/);
  });

  it.each(['0', '31', 'x'])('refuses OUTBOUND_TIMEOUT=%j', (value) => {
    expect(() => loadConfig({ OUTBOUND_TIMEOUT: value })).toThrow(/OUTBOUND_TIMEOUT/);
  });
});
