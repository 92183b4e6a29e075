import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestService, startTestService } from '../helpers/service.js';
import { type TestKey, generateTestKey, jwksOf, mintToken } from '../helpers/tokens.js';
import { httpStatusOf } from '../helpers/upstream-client.js';

// OIDC discovery (issue 6): a rule without jwks/jwksUri resolves `jwks_uri` from
// `<issuer>/.well-known/openid-configuration`, with the same fetch rules, cached. Then /metrics after real traffic.
describe('OIDC discovery and /metrics', () => {
  let idp: JwksServer;
  let svc: TestService;
  let key: TestKey;
  let issuer: string;

  beforeAll(async () => {
    key = await generateTestKey('ES256', 'disc-1');
    idp = await startJwksServer();
    issuer = idp.url; // http://127.0.0.1:<port>
    idp.set('/.well-known/openid-configuration', { body: JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }) });
    idp.set('/keys', { body: jwksOf(key) });
    svc = await startTestService({
      'p.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: oidc}
spec:
  jwtRules:
  - issuer: ${issuer}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: need-jwt}
spec:
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]
`,
    });
  });
  afterAll(async () => {
    await svc.close();
    await idp.close();
  });

  it('verifies tokens with keys found through discovery, fetched once', async () => {
    const token = await mintToken(key, { iss: issuer, sub: 'alice' });
    for (let i = 0; i < 5; i++) expect(httpStatusOf(await svc.check({ headers: { authorization: `Bearer ${token}` } }))).toBe(200);
    expect(httpStatusOf(await svc.check({}))).toBe(403);
    expect(httpStatusOf(await svc.check({ headers: { authorization: 'Bearer x.y.z' } }))).toBe(401);
    expect(idp.count('/.well-known/openid-configuration')).toBe(1);
    expect(idp.count('/keys')).toBe(1);
  });

  it('exposes decisions, cache, JWKS and snapshot metrics', async () => {
    const text = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    const value = (line: string): number => {
      const m = text.split('\n').find((l) => l.startsWith(line));
      return m === undefined ? Number.NaN : Number(m.slice(m.lastIndexOf(' ') + 1));
    };
    expect(value('authz_decisions_total{decision="allow",reason="allowed",status="200"}')).toBe(5);
    expect(value('authz_decisions_total{decision="deny",reason="no_allow_rule_matched",status="403"}')).toBe(1);
    expect(value('authz_decisions_total{decision="deny",reason="token_malformed",status="401"}')).toBe(1);
    expect(value('authz_check_duration_seconds_count{decision="allow"}')).toBe(5);
    expect(value('authz_token_cache_hits_total')).toBe(4);
    expect(value('authz_jwks_fetches_total{outcome="success"}')).toBe(1);
    expect(value(`authz_jwks_keys{jwks="discovery:${issuer}"}`)).toBe(1);
    expect(value('authz_policy_snapshot_info{')).toBe(1);
    expect(value('authz_policy_last_reload_failed')).toBe(0);
  });

  it('refuses a discovery document naming another issuer', async () => {
    const other = await startJwksServer();
    other.set('/.well-known/openid-configuration', { body: JSON.stringify({ issuer: 'https://evil.test', jwks_uri: `${other.url}/keys` }) });
    other.set('/keys', { body: jwksOf(key) });
    const s = await startTestService(
      { 'p.yaml': `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: x}\nspec:\n  jwtRules:\n  - issuer: ${other.url}\n` },
      { 'allow-start-without-keys': 'true' },
    );
    try {
      const token = await mintToken(key, { iss: other.url, sub: 'a' });
      const resp = await s.check({ headers: { authorization: `Bearer ${token}` } });
      expect(httpStatusOf(resp)).toBe(401);
      expect(other.count('/keys')).toBe(0);
      const ready = (await (await fetch(`${s.httpUrl}/readyz`)).json()) as { jwks: { lastError: string }[] };
      expect(ready.jwks[0]?.lastError).toMatch(/differs from the configured issuer/);
    } finally {
      await s.close();
      await other.close();
    }
  });
});
