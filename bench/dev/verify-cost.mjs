// Cost of one signature verification on this machine: jose jwtVerify (WebCrypto) vs node:crypto.verify with a
// KeyObject built once, for RS256 and ES256 bench tokens. node bench/dev/verify-cost.mjs
import { createPublicKey, verify } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, importJWK, compactVerify } from 'jose';
import { createIssuers, mintTokens } from '../lib/issuers.mjs';
const issuers = await createIssuers();
for (const iss of [issuers[0], issuers[2]]) {
  const tokens = await mintTokens({ issuers: [iss], count: 2000 });
  const jwks = createLocalJWKSet({ keys: iss.keys.map((k) => k.publicJwk) });
  const key = await importJWK(iss.keys[0].publicJwk, iss.alg);
  const ko = createPublicKey({ key: iss.keys[0].publicJwk, format: 'jwk' });
  for (let pass = 0; pass < 2; pass++) {
    let t = performance.now();
    for (const tk of tokens) await jwtVerify(tk, jwks);
    const a = (performance.now() - t) / tokens.length * 1000;
    t = performance.now();
    for (const tk of tokens) await compactVerify(tk, key);
    const b = (performance.now() - t) / tokens.length * 1000;
    t = performance.now();
    for (const tk of tokens) { const i = tk.lastIndexOf('.'); verify('sha256', Buffer.from(tk.slice(0, i)), iss.alg === 'ES256' ? { key: ko, dsaEncoding: 'ieee-p1363' } : ko, Buffer.from(tk.slice(i + 1), 'base64url')); }
    const c = (performance.now() - t) / tokens.length * 1000;
    if (pass) console.log(iss.alg, `jose jwtVerify+localJWKSet ${a.toFixed(0)} µs, jose compactVerify(CryptoKey) ${b.toFixed(0)} µs, node:crypto.verify(KeyObject) ${c.toFixed(0)} µs`);
  }
}
