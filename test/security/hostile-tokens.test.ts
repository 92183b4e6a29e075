/**
 * Hostile tokens against fixture F1 (security.md §1.1–§1.4), each row through real gRPC: status, deny reason and
 * challenge. "Valid token" = RS256 kid k1 `{iss, sub: alice, iat: now, exp: now+3600}` as `Bearer`.
 * Paths: `/api/v1/products/0` is protected (no token ⇒ 403), `/productpage` is exempt.
 */
import { KeyObject, sign as nodeSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { mintToken } from '../helpers/tokens.js';
import type { CheckRequestInput } from '../helpers/upstream-client.js';
import { type Expected, HostileTally, expectDecision } from './expect-decision.js';
import { ISSUER, alignToSecond, b64u, f1Keys, f1Policies, nowSec, signBytes, signRaw, validClaims, type F1Keys, type WebCryptoKey } from './f1.js';

const API = '/api/v1/products/0';
const ISSUER_B = 'https://issuer-b.test';
const EXEMPT = '/productpage';

let keys: F1Keys;
let svc: TestService;
let evil: JwksServer;
const tally = new HostileTally();

beforeAll(async () => {
  keys = await f1Keys();
  evil = await startJwksServer({ '/evil.json': { body: JSON.stringify({ keys: [{ ...keys.attacker.publicJwk, kid: 'evil' }] }) } });
  // Issuer B: its own JWKS holds the attacker's key under kid k1 (with alg RS256), read only from header x-b-token.
  const b = JSON.stringify({ keys: [{ ...keys.attacker.publicJwk, alg: 'RS256' }] });
  svc = await startTestService({
    ...f1Policies(keys),
    'b.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: b, namespace: istio-system}
spec:
  jwtRules:
  - issuer: ${ISSUER_B}
    jwks: '${b}'
    fromHeaders: [{name: x-b-token}]
`,
  });
});
afterAll(async () => {
  console.log(tally.summary('hostile-tokens'));
  await svc.close();
  await evil.close();
});

const bearer = (t: string, path = API): CheckRequestInput => ({ path, headers: { authorization: `Bearer ${t}` } });
/** A valid RS256/k1 token from raw header and payload (objects or JSON text). */
const rs = (header: Record<string, unknown> | string, payload: Record<string, unknown> | string = validClaims()): string => signRaw(keys.k1, header, payload, 'RS256');
const k1Header = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...extra });
/** Replaces one segment (0 header, 1 payload, 2 signature) of a token. */
const withSegment = (t: string, i: number, seg: string): string => t.split('.').map((s, j) => (j === i ? seg : s)).join('.');
/** Flips an unused trailing bit of a base64url segment: same bytes, different spelling. */
function nonCanonical(seg: string): string {
  if (seg.length % 4 === 0) throw new TypeError('segment has no unused bits');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const v = alphabet.indexOf(seg.slice(-1));
  return seg.slice(0, -1) + (alphabet[v ^ 1] ?? '');
}
/** Header text whose base64url form has unused bits (byte length not a multiple of 3). */
function oddHeaderText(): string {
  let t = JSON.stringify(k1Header());
  while (Buffer.byteLength(t) % 3 === 0) t = `${t} `;
  return t;
}

interface Row extends Expected {
  readonly name: string;
  readonly input: () => CheckRequestInput | Promise<CheckRequestInput>;
  /** Extra assertion on the response. */
  readonly then?: (resp: Awaited<ReturnType<TestService['check']>>) => void;
}

async function run(row: Row): Promise<void> {
  const resp = await svc.check(await row.input());
  tally.record(row, resp);
  expectDecision(resp, row);
  row.then?.(resp);
}

describe('F1 baseline', () => {
  it.each<Row>([
    { name: 'a valid token is allowed on the protected path', input: async () => bearer(await mintToken(keys.k1, { iss: ISSUER, sub: 'alice' })), status: 200 },
    { name: 'no token on the protected path is denied by the DENY rule', input: () => ({ path: API }), status: 403, reason: 'denied_by_rule' },
    { name: 'no token on the exempt path is allowed', input: () => ({ path: EXEMPT }), status: 200 },
    { name: 'a garbage token on the exempt path is still 401', input: () => bearer('garbage', EXEMPT), status: 401, reason: 'token_malformed' },
  ])('$name', run);
});

describe('§1.1 token syntax', () => {
  const none = (alg: string, sig: string): string => `${b64u(JSON.stringify({ alg, typ: 'JWT' }))}.${b64u(JSON.stringify(validClaims()))}.${sig}`;
  it.each<Row>([
    { name: 'alg none with an empty signature (h.p.)', input: () => bearer(none('none', '')), status: 401, reason: 'token_malformed' },
    { name: 'alg none with a signature', input: () => bearer(none('none', 'c2ln')), status: 401, reason: 'algorithm_unsupported' },
    { name: 'alg None', input: () => bearer(none('None', 'c2ln')), status: 401, reason: 'algorithm_unsupported' },
    { name: 'alg NONE', input: () => bearer(none('NONE', 'c2ln')), status: 401, reason: 'algorithm_unsupported' },
    { name: 'JWE compact form (5 parts) is never decrypted', input: () => bearer(`${b64u('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.${b64u('k')}.${b64u('iv')}.${b64u('ct')}.${b64u('tag')}`), status: 401, reason: 'token_malformed' },
    { name: 'two parts', input: () => bearer(rs(k1Header()).split('.').slice(0, 2).join('.')), status: 401, reason: 'token_malformed' },
    { name: 'four parts', input: () => bearer(`${rs(k1Header())}.x`), status: 401, reason: 'token_malformed' },
    { name: 'leading dot', input: () => bearer(`.${rs(k1Header())}`), status: 401, reason: 'token_malformed' },
    { name: 'trailing dot', input: () => bearer(`${rs(k1Header())}.`), status: 401, reason: 'token_malformed' },
    { name: 'empty payload segment', input: () => bearer(withSegment(rs(k1Header()), 1, '')), status: 401, reason: 'token_malformed' },
    { name: 'padded header segment (=)', input: () => bearer(withSegment(rs(k1Header()), 0, `${b64u(JSON.stringify(k1Header()))}=`)), status: 401, reason: 'token_malformed' },
    { name: 'padded signature segment (=)', input: () => bearer(`${rs(k1Header())}==`), status: 401, reason: 'token_malformed' },
    { name: 'standard base64 characters (+ /) in the payload', input: () => bearer(withSegment(rs(k1Header()), 1, Buffer.from(JSON.stringify(validClaims({ x: '\u00fb\u00ff\u00fe' }))).toString('base64').replace(/=+$/, ''))), status: 401, reason: 'token_malformed' },
    { name: 'non-canonical header (unused bits set), signed over the odd spelling', input: () => { const h = nonCanonical(b64u(oddHeaderText())); const p = b64u(JSON.stringify(validClaims())); return bearer(`${h}.${p}.${signBytes(keys.k1, 'RS256', `${h}.${p}`).toString('base64url')}`); }, status: 401, reason: 'token_malformed' },
    { name: 'non-canonical signature (same bytes, other spelling)', input: () => { const t = rs(k1Header()); return bearer(withSegment(t, 2, nonCanonical(t.split('.')[2] ?? ''))); }, status: 401, reason: 'token_malformed' },
    { name: 'tab inside the signature', input: () => { const t = rs(k1Header()); return bearer(`${t.slice(0, -10)}\t${t.slice(-10)}`); }, status: 401, reason: 'token_malformed' },
    { name: 'newline inside the signature', input: () => { const t = rs(k1Header()); return bearer(`${t.slice(0, -10)}\n${t.slice(-10)}`); }, status: 401, reason: 'token_malformed' },
    { name: 'header is not JSON', input: () => bearer(rs('{alg:RS256}')), status: 401, reason: 'token_malformed' },
    { name: 'payload is not JSON', input: () => bearer(rs(k1Header(), 'sub=alice')), status: 401, reason: 'token_malformed' },
    { name: 'payload is a JSON array', input: () => bearer(rs(k1Header(), '[]')), status: 401, reason: 'token_malformed' },
    { name: 'payload is a JSON string', input: () => bearer(rs(k1Header(), '"x"')), status: 401, reason: 'token_malformed' },
    { name: 'payload is a JSON number', input: () => bearer(rs(k1Header(), '1')), status: 401, reason: 'token_malformed' },
    { name: 'payload is JSON null', input: () => bearer(rs(k1Header(), 'null')), status: 401, reason: 'token_malformed' },
    { name: 'payload is not UTF-8', input: () => { const h = b64u(JSON.stringify(k1Header())); const p = b64u(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])); return bearer(`${h}.${p}.${signBytes(keys.k1, 'RS256', `${h}.${p}`).toString('base64url')}`); }, status: 401, reason: 'token_malformed' },
    { name: 'payload starts with a byte-order mark', input: () => bearer(rs(k1Header(), `\uFEFF${JSON.stringify(validClaims())}`)), status: 401, reason: 'token_malformed' },
    { name: 'duplicate sub in the payload (last-wins would read admin)', input: () => { const c = validClaims(); return bearer(rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice","exp":${String(c['exp'])},"sub":"admin"}`)); }, status: 401, reason: 'token_malformed' },
    { name: 'duplicate sub spelled with a JSON escape', input: () => bearer(rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice","s\\u0075b":"admin"}`)), status: 401, reason: 'token_malformed' },
    { name: 'duplicate member inside a nested object', input: () => bearer(rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice","realm":{"role":"user","role":"admin"}}`)), status: 401, reason: 'token_malformed' },
    { name: 'duplicate alg in the header', input: () => bearer(rs('{"alg":"HS256","kid":"k1","alg":"RS256"}')), status: 401, reason: 'token_malformed' },
    { name: 'JSON nesting of 65 levels', input: () => bearer(rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice","d":${'['.repeat(64)}${']'.repeat(64)}}`)), status: 401, reason: 'token_malformed' },
    { name: 'JSON nesting of exactly 64 levels is fine', input: () => bearer(rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice","d":${'['.repeat(63)}${']'.repeat(63)}}`)), status: 200 },
    { name: 'token over 64 KiB is refused before decoding', input: () => bearer(rs(k1Header(), validClaims({ pad: 'x'.repeat(70 * 1024) }))), status: 401, reason: 'token_too_large' },
    { name: 'nested JWT: payload is a compact JWS string (cty JWT)', input: () => bearer(rs(k1Header({ cty: 'JWT' }), JSON.stringify(rs(k1Header())))), status: 401, reason: 'token_malformed' },
    { name: 'nested JWT: payload is the raw inner JWS', input: () => bearer(rs(k1Header({ cty: 'JWT' }), rs(k1Header()))), status: 401, reason: 'token_malformed' },
    { name: 'alg missing', input: () => bearer(rs({ typ: 'JWT', kid: 'k1' })), status: 401, reason: 'token_malformed' },
    { name: 'alg is an array', input: () => bearer(rs({ alg: ['RS256'], kid: 'k1' })), status: 401, reason: 'token_malformed' },
    { name: 'kid is a number', input: () => bearer(rs({ alg: 'RS256', kid: 1 })), status: 401, reason: 'token_malformed' },
    { name: 'crit names an unknown extension', input: () => bearer(rs(k1Header({ crit: ['x-custom'], 'x-custom': 1 }))), status: 401, reason: 'token_invalid' },
    { name: 'crit is an empty array', input: () => bearer(rs(k1Header({ crit: [] }))), status: 401, reason: 'token_invalid' },
    { name: 'crit names a standard parameter', input: () => bearer(rs(k1Header({ crit: ['alg'] }))), status: 401, reason: 'token_invalid' },
    { name: 'crit is not an array', input: () => bearer(rs(k1Header({ crit: 'b64' }))), status: 401, reason: 'token_invalid' },
    { name: 'b64:false with crit [b64] (unencoded payload)', input: () => bearer(rs(k1Header({ b64: false, crit: ['b64'] }))), status: 401, reason: 'token_invalid' },
    { name: 'b64:false without crit is an ordinary JWS', input: () => bearer(rs(k1Header({ b64: false }))), status: 200 },
    { name: 'zip:DEF in a JWS header is ignored', input: () => bearer(rs(k1Header({ zip: 'DEF' }))), status: 200 },
  ])('$name', run);
});

describe('§1.2 algorithms, keys and key selection', () => {
  const hsWithPem = (kid: string | undefined): string => {
    const h = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...(kid === undefined ? {} : { kid }) }));
    const p = b64u(JSON.stringify(validClaims()));
    return `${h}.${p}.${signBytes({ ...keys.hs1, privateKey: new Uint8Array(Buffer.from(keys.k1Pem)) }, 'HS256', `${h}.${p}`).toString('base64url')}`;
  };
  const ecDer = (): string => {
    const h = b64u(JSON.stringify({ alg: 'ES256', kid: 'ec1' }));
    const p = b64u(JSON.stringify(validClaims()));
    const der = nodeSign('sha256', Buffer.from(`${h}.${p}`), { key: KeyObject.from(keys.ec1.privateKey as WebCryptoKey), dsaEncoding: 'der' });
    return `${h}.${p}.${der.toString('base64url')}`;
  };
  it.each<Row>([
    { name: 'HS256 signed with k1 public PEM, kid k1 (alg confusion)', input: () => bearer(hsWithPem('k1')), status: 401, reason: 'key_not_found' },
    { name: 'HS256 signed with k1 public PEM, no kid (only hs1 is a candidate)', input: () => bearer(hsWithPem(undefined)), status: 401, reason: 'signature_invalid' },
    { name: 'HS256 with kid hs1 and the right secret', input: () => bearer(signRaw(keys.hs1, { alg: 'HS256', kid: 'hs1' }, validClaims())), status: 200 },
    ...['ES256K', 'Ed25519', 'ML-DSA-44', 'RS1', 'HS1', 'RSA-OAEP', 'rs256', 'RS256 '].map(
      (alg): Row => ({ name: `alg ${JSON.stringify(alg)} is outside the allow-list`, input: () => bearer(rs({ alg, kid: 'k1' })), status: 401, reason: 'algorithm_unsupported' }),
    ),
    { name: 'RS256 whose kid names the EC key', input: () => bearer(rs({ alg: 'RS256', kid: 'ec1' })), status: 401, reason: 'key_not_found' },
    { name: 'ES384 against the P-256 key', input: () => bearer(`${b64u('{"alg":"ES384","kid":"ec1"}')}.${b64u(JSON.stringify(validClaims()))}.${b64u(new Uint8Array(96))}`), status: 401, reason: 'key_not_found' },
    { name: 'ES256 with kid ec1, correctly signed', input: () => bearer(signRaw(keys.ec1, { alg: 'ES256', kid: 'ec1' }, validClaims())), status: 200 },
    { name: 'ES256 DER-encoded signature', input: () => bearer(ecDer()), status: 401, reason: 'signature_invalid' },
    { name: 'ES256 psychic signature (64 zero bytes)', input: () => bearer(`${b64u('{"alg":"ES256","kid":"ec1"}')}.${b64u(JSON.stringify(validClaims()))}.${b64u(new Uint8Array(64))}`), status: 401, reason: 'signature_invalid' },
    { name: 'EdDSA with kid ed1, correctly signed', input: () => bearer(signRaw(keys.ed1, { alg: 'EdDSA', kid: 'ed1' }, validClaims())), status: 200 },
    { name: 'EdDSA signature of the wrong length', input: () => { const t = signRaw(keys.ed1, { alg: 'EdDSA', kid: 'ed1' }, validClaims()); return bearer(withSegment(t, 2, b64u(Buffer.from(t.split('.')[2] ?? '', 'base64url').subarray(0, 63)))); }, status: 401, reason: 'signature_invalid' },
    { name: 'PS256 with the RSA key that has no alg member', input: () => bearer(signRaw(keys.k1, { alg: 'PS256', kid: 'k1' }, validClaims(), 'PS256')), status: 200 },
    { name: 'no kid, RS256 by k1 (every fitting key is tried)', input: () => bearer(rs({ alg: 'RS256' })), status: 200 },
    { name: 'no kid, signed by a key outside the set', input: () => bearer(signRaw(keys.attacker, { alg: 'RS256' }, validClaims())), status: 401, reason: 'signature_invalid' },
    { name: 'unknown kid k9', input: () => bearer(rs({ alg: 'RS256', kid: 'k9' })), status: 401, reason: 'key_not_found' },
    { name: 'kid with path traversal', input: () => bearer(rs({ alg: 'RS256', kid: '../../../etc/passwd' })), status: 401, reason: 'key_not_found' },
    { name: "kid with SQL injection", input: () => bearer(rs({ alg: 'RS256', kid: "' OR '1'='1" })), status: 401, reason: 'key_not_found' },
    { name: 'kid of 4 KB', input: () => bearer(rs({ alg: 'RS256', kid: 'k'.repeat(4096) })), status: 401, reason: 'key_not_found' },
    { name: 'kid look-alike k\uFF11 (full-width digit)', input: () => bearer(rs({ alg: 'RS256', kid: 'k\uFF11' })), status: 401, reason: 'key_not_found' },
    { name: 'known kid k1, signed by the attacker', input: () => bearer(signRaw(keys.attacker, k1Header(), validClaims())), status: 401, reason: 'signature_invalid' },
    { name: 'embedded jwk header with the attacker key', input: () => bearer(signRaw(keys.attacker, { alg: 'RS256', jwk: { ...keys.attacker.publicJwk, kid: undefined } }, validClaims())), status: 401, reason: 'signature_invalid' },
    { name: 'x5c header with attacker material', input: () => bearer(signRaw(keys.attacker, { alg: 'RS256', x5c: [b64u('not a certificate').replace(/-/g, '+')] }, validClaims())), status: 401, reason: 'signature_invalid' },
    { name: 'iss of F1, kid k1, signed with issuer B\'s key that also uses kid k1 (keys are scoped by issuer)', input: () => bearer(signRaw(keys.attacker, k1Header(), validClaims())), status: 401, reason: 'signature_invalid' },
    { name: 'issuer B token in its own location is allowed', input: () => ({ path: API, headers: { 'x-b-token': signRaw(keys.attacker, k1Header(), validClaims({ iss: ISSUER_B })) } }), status: 200 },
    { name: 'issuer B token in Authorization (configured only for F1) is issuer_unknown', input: () => bearer(signRaw(keys.attacker, k1Header(), validClaims({ iss: ISSUER_B }))), status: 401, reason: 'issuer_unknown' },
    { name: 'F1 token in x-b-token (configured only for B) is issuer_unknown', input: () => ({ path: API, headers: { 'x-b-token': rs(k1Header()) } }), status: 401, reason: 'issuer_unknown' },
    { name: 'PS256 against a JWK that says alg RS256', input: () => ({ path: API, headers: { 'x-b-token': signRaw(keys.attacker, { alg: 'PS256', kid: 'k1' }, validClaims({ iss: ISSUER_B }), 'PS256') } }), status: 401, reason: 'key_not_found' },
    {
      name: 'jku pointing at a local attacker JWKS: 401 and no fetch',
      input: () => bearer(signRaw(keys.attacker, { alg: 'RS256', kid: 'evil', jku: `${evil.url}/evil.json` }, validClaims())),
      status: 401,
      reason: 'key_not_found',
      then: () => expect(evil.count('/evil.json')).toBe(0),
    },
    {
      name: 'x5u pointing at a local attacker URL: 401 and no fetch',
      input: () => bearer(signRaw(keys.attacker, { alg: 'RS256', kid: 'evil', x5u: `${evil.url}/evil.json` }, validClaims())),
      status: 401,
      reason: 'key_not_found',
      then: () => expect(evil.count('/evil.json')).toBe(0),
    },
    {
      name: 'a valid k1 token carrying jku/x5u/jwk/x5c is allowed, headers ignored, no fetch',
      input: () => bearer(rs(k1Header({ jku: `${evil.url}/evil.json`, x5u: `${evil.url}/evil.json`, jwk: keys.attacker.publicJwk, x5c: ['AAAA'] }))),
      status: 200,
      then: () => expect(evil.count('/evil.json')).toBe(0),
    },
  ])('$name', run);
});

describe('§1.3 claims and time', () => {
  const c = (extra: Record<string, unknown>): string => rs(k1Header(), validClaims(extra));
  const raw = (members: string): string => rs(k1Header(), `{"iss":"${ISSUER}","sub":"alice",${members}}`);
  it.each<Row>([
    { name: 'exp as a string', input: () => bearer(c({ exp: String(nowSec() + 3600) })), status: 401, reason: 'claim_invalid' },
    { name: 'exp true', input: () => bearer(c({ exp: true })), status: 401, reason: 'claim_invalid' },
    { name: 'exp null', input: () => bearer(c({ exp: null })), status: 401, reason: 'claim_invalid' },
    { name: 'exp {}', input: () => bearer(c({ exp: {} })), status: 401, reason: 'claim_invalid' },
    { name: 'nbf as a string', input: () => bearer(c({ nbf: String(nowSec()) })), status: 401, reason: 'claim_invalid' },
    { name: 'iat "x"', input: () => bearer(c({ iat: 'x' })), status: 401, reason: 'claim_invalid' },
    { name: 'exp with a fraction (now+3600.5) is fine', input: () => bearer(c({ exp: nowSec() + 3600.5 })), status: 200 },
    { name: 'exp -1', input: () => bearer(c({ exp: -1 })), status: 401, reason: 'claim_invalid' },
    { name: 'nbf -1', input: () => bearer(c({ nbf: -1 })), status: 401, reason: 'claim_invalid' },
    { name: 'iat -1', input: () => bearer(c({ iat: -1 })), status: 401, reason: 'claim_invalid' },
    { name: 'exp 0 is expired (1970)', input: () => bearer(c({ exp: 0 })), status: 401, reason: 'token_expired' },
    { name: 'exp 1e400 (Infinity after JSON.parse)', input: () => bearer(raw('"exp":1e400')), status: 401, reason: 'claim_invalid' },
    { name: 'exp 2e19 (beyond 2^64)', input: () => bearer(raw('"exp":2e19')), status: 401, reason: 'claim_invalid' },
    { name: 'exp 9999999999 (year 2286) is fine', input: () => bearer(c({ exp: 9999999999 })), status: 200 },
    { name: 'iat one day in the future, no nbf, is fine', input: () => bearer(c({ iat: nowSec() + 86400 })), status: 200 },
    { name: 'iss is a number', input: () => bearer(c({ iss: 123 })), status: 401, reason: 'claim_invalid' },
    { name: 'sub is a number', input: () => bearer(c({ sub: 123 })), status: 401, reason: 'claim_invalid' },
    { name: 'jti is a number', input: () => bearer(c({ jti: 123 })), status: 401, reason: 'claim_invalid' },
    { name: 'aud 5', input: () => bearer(c({ aud: 5 })), status: 401, reason: 'claim_invalid' },
    { name: 'aud ["api", 5]', input: () => bearer(c({ aud: ['api', 5] })), status: 401, reason: 'claim_invalid' },
    { name: 'aud {}', input: () => bearer(c({ aud: {} })), status: 401, reason: 'claim_invalid' },
    { name: 'iss with a trailing slash', input: () => bearer(c({ iss: `${ISSUER}/` })), status: 401, reason: 'issuer_unknown' },
    { name: 'iss in upper case', input: () => bearer(c({ iss: ISSUER.toUpperCase() })), status: 401, reason: 'issuer_unknown' },
    { name: 'iss of another issuer', input: () => bearer(c({ iss: 'https://other.test' })), status: 401, reason: 'issuer_unknown' },
    { name: 'iss with a Cyrillic look-alike (te\u0455t)', input: () => bearer(c({ iss: 'https://issuer.te\u0455t' })), status: 401, reason: 'issuer_unknown' },
    { name: 'iss missing', input: () => bearer(c({ iss: undefined })), status: 401, reason: 'issuer_unknown' },
    { name: 'valid token without sub has no principal: 403 on the protected path', input: () => bearer(c({ sub: undefined })), status: 403, reason: 'denied_by_rule' },
    { name: 'valid token with sub "" has no principal: 403', input: () => bearer(c({ sub: '' })), status: 403, reason: 'denied_by_rule' },
  ])('$name', run);

  // Envoy verifyTimeConstraint with the 60 s default skew; tested at ±59/±61 s, never at the boundary.
  it.each<Row & { readonly claim: 'exp' | 'nbf'; readonly offset: number }>([
    { name: 'exp = now − 59 s is inside the skew', claim: 'exp', offset: -59, input: () => ({}), status: 200 },
    { name: 'exp = now − 61 s is expired', claim: 'exp', offset: -61, input: () => ({}), status: 401, reason: 'token_expired' },
    { name: 'nbf = now + 59 s is inside the skew', claim: 'nbf', offset: 59, input: () => ({}), status: 200 },
    { name: 'nbf = now + 61 s is not yet valid', claim: 'nbf', offset: 61, input: () => ({}), status: 401, reason: 'token_not_yet_valid' },
  ])('$name', async (row) => {
    await alignToSecond();
    const now = nowSec();
    await run({ ...row, input: () => bearer(c({ iat: now - 120, [row.claim]: now + row.offset, ...(row.claim === 'nbf' ? { exp: now + 3600 } : {}) })) });
  });
});

describe('§1.4 where the token comes from', () => {
  const valid = (): string => rs(k1Header());
  const expired = (): string => rs(k1Header(), validClaims({ exp: nowSec() - 3600 }));
  const auth = (value: string, path = API): CheckRequestInput => ({ path, headers: { authorization: value } });
  it.each<Row>([
    { name: 'lower-case "bearer" is no token: 403 on the protected path', input: () => auth(`bearer ${valid()}`), status: 403, reason: 'denied_by_rule' },
    {
      name: 'lower-case "bearer" is no token: allowed on the exempt path, authorization not removed',
      input: () => auth(`bearer ${valid()}`, EXEMPT),
      status: 200,
      then: (r) => expect(r.ok_response?.headers_to_remove ?? []).not.toContain('authorization'),
    },
    { name: 'upper-case "BEARER" is no token', input: () => auth(`BEARER ${valid()}`), status: 403, reason: 'denied_by_rule' },
    { name: '"Bearer  <t>" (two spaces) is the token', input: () => auth(`Bearer  ${valid()}`), status: 200 },
    { name: '"Bearer\\t<t>" is no token', input: () => auth(`Bearer\t${valid()}`), status: 403, reason: 'denied_by_rule' },
    { name: '"Bearer<t>" (no space) is no token', input: () => auth(`Bearer${valid()}`), status: 403, reason: 'denied_by_rule' },
    { name: '"Bearer " with nothing after it is an empty token', input: () => auth('Bearer '), status: 401, reason: 'token_malformed' },
    { name: '"Bearer <t> junk" keeps the junk', input: () => auth(`Bearer ${valid()} junk`), status: 401, reason: 'token_malformed' },
    { name: '"Token Bearer <t>" finds the prefix inside the value', input: () => auth(`Token Bearer ${valid()}`), status: 200 },
    { name: 'Basic credentials are no token', input: () => auth('Basic dXNlcjpwYXNz'), status: 403, reason: 'denied_by_rule' },
    { name: 'two Authorization headers merged by Envoy ("Bearer a,Bearer b")', input: () => auth(`Bearer ${valid()},Bearer ${expired()}`), status: 401, reason: 'token_malformed' },
    {
      name: 'two raw Authorization entries with different tokens',
      input: () => ({ path: API, rawHeaders: [['authorization', `Bearer ${valid()}`], ['authorization', `Bearer ${expired()}`]] }),
      status: 401,
      reason: 'multiple_tokens',
    },
    { name: 'the same token twice as raw Authorization entries counts once', input: () => { const t = valid(); return { path: API, rawHeaders: [['authorization', `Bearer ${t}`], ['authorization', `Bearer ${t}`]] }; }, status: 200 },
    { name: 'the same token in the header and ?access_token counts once', input: () => { const t = valid(); return { path: `${API}?access_token=${t}`, headers: { authorization: `Bearer ${t}` } }; }, status: 200 },
    { name: 'different valid tokens in header and query', input: () => ({ path: `${API}?access_token=${valid()}`, headers: { authorization: `Bearer ${rs(k1Header(), validClaims({ sub: 'bob' }))}` } }), status: 401, reason: 'multiple_tokens' },
    { name: '?access_token=A&access_token=B', input: () => ({ path: `${API}?access_token=${valid()}&access_token=${rs(k1Header(), validClaims({ sub: 'bob' }))}` }), status: 401, reason: 'multiple_tokens' },
    { name: 'valid header token plus an expired query token', input: () => ({ path: `${API}?access_token=${expired()}`, headers: { authorization: `Bearer ${valid()}` } }), status: 401, reason: 'multiple_tokens' },
    { name: 'an empty ?access_token= is a present, empty token', input: () => ({ path: `${API}?access_token=` }), status: 401, reason: 'token_malformed' },
    { name: '?Access_Token= (other case) is no token', input: () => ({ path: `${API}?Access_Token=${valid()}` }), status: 403, reason: 'denied_by_rule' },
    {
      name: 'a valid ?access_token is used and removed from the upstream query',
      input: () => ({ path: `${API}?access_token=${valid()}` }),
      status: 200,
      then: (r) => expect(r.ok_response?.query_parameters_to_remove).toContain('access_token'),
    },
    {
      name: 'a 401 realm never echoes the query string (no token reflected)',
      input: () => ({ path: `${EXEMPT}?access_token=garbage.x.y&q="1"` }),
      status: 401,
      reason: 'token_malformed',
      then: (r) => expect(r.denied_response?.headers.find((h) => h.header?.key === 'www-authenticate')?.header?.value).toBe('Bearer realm="http://example.com/productpage", error="invalid_token"'),
    },
    {
      name: 'CORS preflight skips verification: garbage token on the exempt path is allowed',
      input: () => ({ method: 'OPTIONS', path: EXEMPT, headers: { authorization: 'Bearer garbage', origin: 'https://a.test', 'access-control-request-method': 'GET' } }),
      status: 200,
    },
    {
      name: 'CORS preflight with garbage token on the protected path: no principal, 403',
      input: () => ({ method: 'OPTIONS', path: API, headers: { authorization: 'Bearer garbage', origin: 'https://a.test', 'access-control-request-method': 'GET' } }),
      status: 403,
      reason: 'denied_by_rule',
    },
    {
      name: 'OPTIONS with Access-Control-Request-Method but no Origin is not a preflight',
      input: () => ({ method: 'OPTIONS', path: EXEMPT, headers: { authorization: 'Bearer garbage', 'access-control-request-method': 'GET' } }),
      status: 401,
      reason: 'token_malformed',
    },
    { name: 'a forged x-envoy-original-path does not move the request to the exempt path', input: () => ({ path: API, headers: { 'x-envoy-original-path': EXEMPT } }), status: 403, reason: 'denied_by_rule' },
    { name: 'encode_raw_headers: the token in header_map is found', input: () => ({ path: API, rawHeaders: [['authorization', `Bearer ${valid()}`]] }), status: 200 },
  ])('$name', run);
});
