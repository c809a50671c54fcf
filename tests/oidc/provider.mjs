// A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider (an
// OpenID-certified implementation, installed from npm as a dev dependency of frontend/),
// with its development login form (any login; the password is not checked) and the
// accounts, client and groups the test passes in.
//
//   node tests/oidc/provider.mjs <port> <config.json>
//   config: {"client_id", "client_secret", "redirect_uris": [...],
//            "accounts": {"<login>": {"email", "name", "groups": [...]}}}
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', '..', 'frontend', 'node_modules', 'oidc-provider', 'lib',
                   'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const [port, configPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name,
                 groups: account.groups };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['os2geo-tests-only'] },
  pkce: { required: () => true },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
