/** `http://` + a loopback IP literal, an optional port, then the rest of the URI (never a fragment). */
const LOOPBACK_IP = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?][^#]*)?$/;

/** A loopback IP redirect URI without its port, or undefined for any other URI (or a port out of range). */
function loopbackWithoutPort(uri: string): string | undefined {
  const m = LOOPBACK_IP.exec(uri);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) return undefined;
  return `http://${m[1]}${m[3] ?? ''}`;
}

/**
 * Whether `asked` names one of the client's registered redirect URIs: the same string (RFC 9700
 * §4.1.3: no prefix, no pattern, no normalisation) — except that for a loopback IP literal
 * (`http://127.0.0.1`, `http://[::1]`) the port may differ, since a native app listens on whatever
 * port the system gives it at the time (RFC 8252 §7.3: "MUST allow any port"). Everything else of
 * that URI must still match character for character; `localhost` gets no such allowance
 * (RFC 8252 §8.3).
 */
export function redirectUriRegistered(registered: readonly string[], asked: string): boolean {
  if (registered.includes(asked)) return true;
  const bare = loopbackWithoutPort(asked);
  return bare !== undefined && registered.some((r) => loopbackWithoutPort(r) === bare);
}
