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
