// The OpenID Connect provider the sign-in tests start on loopback: panva's certified oidc-provider
// (pinned in package-lock.json, installed by bin/test) with one confidential client that must use
// PKCE, and its own login and consent pages (a password is checked; nothing is accepted blindly).
//
// Environment (set by the pytest fixture in tests/sso/conftest.py):
//   PORT           the loopback port to listen on (the issuer is http://127.0.0.1:PORT)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI   the portal's client
//   ACCOUNTS       JSON: {"<login>": {"password": "...", "email": "...", "email_verified": true, ...}}
// Prints "ready <issuer>" on stdout once it listens.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');

// A signing key of its own for each run: the portal finds it at the jwks_uri.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${port}`, use: 'sig', alg: 'RS256' };

async function findAccount(ctx, id) {
  const account = accounts[id];
  if (!account) return undefined;
  return {
    accountId: id,
    async claims() {
      const { password, ...claims } = account;
      return { sub: id, ...claims };
    },
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  // PKCE for every client (S256 only, the library's default method).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  findAccount,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('hex')] },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body, status = 200) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
}

function loginForm(res, uid, error = '') {
  page(res, 'Test identity provider: sign in', `
${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <p><label for="login">Login</label> <input id="login" name="login" autocomplete="username" required></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" required></p>
  <p><button type="submit" id="sign-in">Sign in</button></p>
</form>`, error ? 401 : 200);
}

function consentForm(res, uid, details, clientId) {
  const scopes = (details.missingOIDCScope || []).join(' ');
  page(res, 'Test identity provider: authorise', `
<p>Client <code id="client">${escape(clientId)}</code> asks for: <span id="scopes">${escape(scopes)}</span></p>
<form method="post" action="/interaction/${escape(uid)}/confirm">
  <button type="submit" id="authorise">Authorise</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort">
  <button type="submit" id="cancel">Cancel</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, step) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    page(res, 'Unknown interaction', '<p>This sign-in has expired.</p>', 400);
    return;
  }
  const { prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') loginForm(res, uid);
    else consentForm(res, uid, prompt.details, params.client_id);
    return;
  }
  if (step === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const account = accounts[login];
    if (!account || account.password !== form.get('password')) {
      loginForm(res, uid, 'Wrong login or password.');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  if (step === 'confirm') {
    const { accountId } = details.session;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (step === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The user cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
    return;
  }
  page(res, 'Not found', '', 404);
}

const handle = provider.callback();
const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/;

const server = createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const match = path.match(INTERACTION);
  if (!match) {
    handle(req, res);
    return;
  }
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (error) {
    page(res, 'Error', `<p id="error">${escape(error.message)}</p>`, 400);
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
