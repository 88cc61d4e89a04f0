/**
 * An MCP client as an AI agent would run one: the official SDK's Client over Streamable HTTP with an
 * in-memory OAuthClientProvider. The SDK does the OAuth work (discovery from the 401, registration
 * or a Client ID Metadata Document, PKCE, the token and refresh requests); the provider only keeps
 * what it is given and hands the authorization URL to `person`, who answers with the URL the
 * authorization server sent the browser back to (the app's redirect URI with code, state, iss).
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** Takes the person through the authorization URL; resolves to where they were sent back, or undefined if they never were. */
export type Person = (authorizationUrl: URL) => Promise<URL | undefined>;

export class MemoryOAuthProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  /** Every token response the SDK saved, oldest first. */
  readonly savedTokens: OAuthTokens[] = [];
  /** Every authorization URL the SDK built. */
  readonly authorizationUrls: URL[] = [];
  /** Where the person was sent back to after the last authorization URL. */
  callback: URL | undefined;
  /** When unset, nobody is at the keyboard: an authorization URL is only recorded. */
  person: Person | undefined;

  constructor(
    readonly redirectUrl: string,
    readonly clientMetadata: OAuthClientMetadata,
    opts: { clientMetadataUrl?: string; person?: Person } = {},
  ) {
    this.clientMetadataUrl = opts.clientMetadataUrl;
    this.person = opts.person;
  }

  readonly clientMetadataUrl: string | undefined;

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }
  get lastState(): string | undefined {
    return this.#state;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
    this.savedTokens.push(tokens);
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    this.callback = this.person ? await this.person(url) : undefined;
  }
}

/** A Client connected to `serverUrl`, through the OAuth dance the first time (`connect`, 401, person, finishAuth, connect again). */
export async function connectMcpClient(serverUrl: string, provider: MemoryOAuthProvider): Promise<Client> {
  const first = new Client({ name: 'notes agent', version: '1.0.0' });
  try {
    await first.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
    return first;
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  const code = provider.callback?.searchParams.get('code');
  if (!code) throw new Error(`the person was not sent back with a code: ${provider.callback ?? 'not sent back at all'}`);
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  await transport.finishAuth(code);
  const client = new Client({ name: 'notes agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** The JSON the `whoami` tool answered. */
export async function whoami(client: Client): Promise<{ sub: string; client_id: string; scope: string }> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0].text);
}
