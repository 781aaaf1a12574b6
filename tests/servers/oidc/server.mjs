// A real OAuth 2.0 / OpenID Connect server for socialkit's auth tests.
//
// oidc-provider (https://github.com/panva/node-oidc-provider) is an OpenID Certified
// implementation. The test suite (tests/auth/conftest.py) starts this file on 127.0.0.1:
//
//     node server.mjs PORT            (or env OIDC_PORT=PORT)
//
// and drives the development login and consent pages headlessly with form POSTs (any login and
// password are accepted). Two clients are registered:
//
//   socialkit-public        public (token_endpoint_auth_method "none"), native app: PKCE S256
//                           required, any loopback port on http://127.0.0.1/callback.
//   socialkit-confidential  confidential (client_secret_basic), web app, PKCE too.
//
// Refresh tokens: issued only when the authorization asked for scope `offline_access` with
// `prompt=consent` and the client has the `refresh_token` grant. Every refresh rotates the refresh
// token; presenting an already used one is refused (invalid_grant) and revokes the whole grant,
// as RFC 9700 section 4.14.2 recommends.
import process from 'node:process';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.mjs PORT (or env OIDC_PORT)');
  process.exit(2);
}
const host = '127.0.0.1';
const issuer = `http://${host}:${port}`;
const confidentialSecret = process.env.OIDC_CONFIDENTIAL_SECRET ?? 'socialkit-test-confidential-secret';
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL ?? 3600);

const configuration = {
  clients: [
    {
      client_id: 'socialkit-public',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [`http://${host}/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      client_id: 'socialkit-confidential',
      client_secret: confidentialSecret,
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`http://${host}/cb`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ],
  // PKCE (S256 only) for every client, confidential ones included.
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'] },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  issueRefreshToken: async (_ctx, client, code) => (
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access')
  ),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    RefreshToken: 24 * 60 * 60,
    Grant: 24 * 60 * 60,
    Interaction: 600,
    Session: 24 * 60 * 60,
  },
  cookies: { keys: ['socialkit-test-cookie-key'] },
  async findAccount(_ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, host, () => {
  // The fixture waits for the discovery document; this line is for people running it by hand.
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
