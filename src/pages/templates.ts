import { html, type SafeHtml } from './html.js';
import type { LoginWait } from './login-limiter.js';

export const STYLESHEET_PATH = '/assets/grantor.css';

/** The one stylesheet of the pages, served from Grantor itself (CSP style-src 'self'). */
export const STYLESHEET = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { max-width: 30rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 1.4rem; }
form.stack label { display: block; margin: .75rem 0 .25rem; }
input[type=text], input[type=password] { width: 100%; padding: .5rem; box-sizing: border-box; font: inherit; }
button { padding: .5rem 1.2rem; margin: 1rem .5rem 0 0; font: inherit; cursor: pointer; }
button.primary { font-weight: 600; }
.error { color: #b00020; border: 1px solid #b00020; padding: .5rem .75rem; border-radius: 4px; }
ul.scopes li { margin: .3rem 0; }
table { width: 100%; border-collapse: collapse; } td, th { text-align: left; padding: .4rem .3rem; border-bottom: 1px solid #8884; vertical-align: top; }
code { font-size: .9em; }
`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Grantor</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${body}
</main>
</body>
</html>`.value;
}

const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);

export function loginPage(opts: { csrf: string; returnTo: string; error?: string; username?: string; appName?: string }): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${opts.appName ? html`<p><strong>${opts.appName}</strong> wants to access your account. Sign in to continue.</p>` : ''}
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form class="stack" method="post" action="/login">
${hidden({ csrf: opts.csrf, return_to: opts.returnTo })}
<label for="username">Username</label>
<input id="username" type="text" name="username" autocomplete="username" required maxlength="64" value="${opts.username ?? ''}" autofocus>
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required maxlength="1024">
<button class="primary" type="submit">Sign in</button>
</form>`,
  );
}

/** What the login page says when a limit stops a sign-in: which limit, and how long to wait. */
export function loginBlockedMessage(wait: LoginWait): string {
  const minutes = `Try again in ${Math.ceil(wait.seconds / 60)} minute(s).`;
  switch (wait.block) {
    case 'account-and-address':
      return `Too many failed attempts to sign in to this account from your network. ${minutes}`;
    case 'address':
      return `Too many failed attempts to sign in from your network. ${minutes}`;
    case 'account':
      return `This account is temporarily locked after many failed attempts to sign in to it from several places. ${minutes}`;
  }
}

export interface ConsentScope {
  name: string;
  description: string;
}

/** An app no admin registered (a Client ID Metadata Document, or self-registered): who it says it is, and where it answers. */
export interface UnvettedApp {
  /** The client_id URL its document is at; undefined for an app that registered itself (RFC 7591). */
  clientId: string | undefined;
  /** The host of the redirect URI the answer goes to. */
  redirectHost: string;
}

export function consentPage(opts: { csrf: string; params: URLSearchParams; appName: string; resourceName: string; scopes: ConsentScope[]; username: string; askedAgain?: boolean; unvetted?: UnvettedApp }): string {
  const carried = [...opts.params].map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return layout(
    'Allow access?',
    html`<h1>Allow <strong>${opts.appName}</strong> to access your account?</h1>
${
  opts.unvetted
    ? opts.unvetted.clientId
      ? html`<p role="note" class="unvetted">This app was not registered by an administrator. It describes itself at <code>${opts.unvetted.clientId}</code>; the name above is its own claim. If you allow, you will be sent to <strong>${opts.unvetted.redirectHost}</strong>.</p>`
      : html`<p role="note" class="unvetted">This app was not registered by an administrator: it registered itself, and the name above is its own claim. If you allow, you will be sent to <strong>${opts.unvetted.redirectHost}</strong>.</p>`
    : ''
}
<p>Signed in as <strong>${opts.username}</strong>. ${opts.appName} asks to use ${opts.resourceName} for you with these permissions:</p>
<ul class="scopes">
${opts.scopes.map((s) => html`<li><code>${s.name}</code>${s.description ? html` — ${s.description}` : ''}</li>`)}
</ul>
${opts.askedAgain ? html`<p role="note">You allowed this before. An app on your device cannot prove it is the same app, so you are asked each time.</p>` : ''}
<p>You can take this back at any time on <a href="/account">your connected apps</a> page.</p>
<form method="post" action="/oauth/authorize">
${hidden({ csrf: opts.csrf })}
${carried}
<button class="primary" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export interface ConnectedApp {
  grantId: string;
  appName: string;
  resourceName: string;
  scopes: ConsentScope[];
  since: string;
  /** Not registered by an admin (a Client ID Metadata Document URL, or a self-registered client). */
  unvetted?: boolean;
}

export function accountPage(opts: { csrf: string; username: string; apps: ConnectedApp[]; notice?: string }): string {
  return layout(
    'Connected apps',
    html`<h1>Connected apps</h1>
<p>Signed in as <strong>${opts.username}</strong>.</p>
${opts.notice ? html`<p role="status">${opts.notice}</p>` : ''}
${
  opts.apps.length === 0
    ? html`<p>No app has access to your account.</p>`
    : html`<table>
<thead><tr><th>App</th><th>Access</th><th>Since</th><th></th></tr></thead>
<tbody>
${opts.apps.map(
  (a) => html`<tr data-grant="${a.grantId}">
<td><strong>${a.appName}</strong>${a.unvetted ? html`<br><small>not registered by an administrator</small>` : ''}<br>${a.resourceName}</td>
<td>${a.scopes.map((s) => html`<code title="${s.description}">${s.name}</code> `)}</td>
<td>${a.since}</td>
<td><form method="post" action="/account/grants/${a.grantId}/revoke">${hidden({ csrf: opts.csrf })}<button type="submit">Revoke</button></form></td>
</tr>`,
)}
</tbody>
</table>`
}
<form method="post" action="/logout">${hidden({ csrf: opts.csrf })}<button type="submit">Sign out</button></form>`,
  );
}

export function errorPage(opts: { title: string; message: string }): string {
  return layout(opts.title, html`<h1>${opts.title}</h1><p class="error" role="alert">${opts.message}</p>`);
}
