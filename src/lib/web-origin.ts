/**
 * The origin (scheme://host:port, RFC 6454) a browser sends for a page at `uri`, when it is an
 * http(s) URL; undefined for another scheme (an app's private-use redirect, RFC 8252 §7.1) or a
 * malformed URL.
 */
export function webOrigin(uri: string): string | undefined {
  try {
    const { protocol, origin } = new URL(uri);
    return protocol === 'https:' || protocol === 'http:' ? origin : undefined;
  } catch {
    return undefined;
  }
}

/** The origins a browser app with these redirect URIs runs at: those of its http(s) ones. */
export function webOrigins(uris: readonly string[]): Set<string> {
  const origins = new Set<string>();
  for (const uri of uris) {
    const origin = webOrigin(uri);
    if (origin) origins.add(origin);
  }
  return origins;
}
