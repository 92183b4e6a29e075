import { dirname, isAbsolute, resolve } from 'node:path';
import { checkJwks } from '../../../model/jwk.js';
import type { KeySource, TlsSettings } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { issueAt } from '../../matchers.js';
import type { CompileContext } from '../types.js';
import { parsePositiveDuration } from '../../duration.js';
import type { JWKS, JWKSLocal, JWKSRemote } from './jwks-schema.js';
import type { Parsed } from './parsed.js';

/**
 * Where a Secret's keys live outside Kubernetes: `.secrets/<name>/<key>` next to the document, as a Secret volume
 * mounted there would lay them out. The dot keeps the policy reader out of it (it skips dot entries), so a
 * `jwks.json` is never mistaken for a policy document.
 */
export function secretFile(secretName: string, key: string): string {
  return `.secrets/${secretName}/${key}`;
}

/** Upper bound for a local key set file, the same as for a fetched one (security.md §2.2). */
const MAX_JWKS_BYTES = 512 * 1024;

/** Compiles a `JWKS` into a key source; undefined (with issues) when it cannot be used. */
export function compileJwks(p: Parsed<JWKS>, context: CompileContext, issues: ConfigIssue[]): KeySource | undefined {
  const provider = p.value.spec.provider;
  if (provider.local !== undefined) return compileLocal(p, provider.local, context, issues);
  if (provider.remote !== undefined) return compileRemote(p, provider.remote, context, issues);
  return undefined;
}

function compileLocal(p: Parsed<JWKS>, local: JWKSLocal, context: CompileContext, issues: ConfigIssue[]): KeySource | undefined {
  const at = ['spec', 'provider', 'local', local.jwksFile !== undefined ? 'jwksFile' : 'secretRef'];
  const file = local.jwksFile ?? secretFile(local.secretRef?.name ?? '', 'jwks.json');
  let text: string;
  try {
    text = context.readFile(p.doc.file, file);
  } catch (err) {
    issues.push(issueAt(p.doc, at, `cannot read JWKS file ${file}: ${errorText(err)}`));
    return undefined;
  }
  if (Buffer.byteLength(text) > MAX_JWKS_BYTES) {
    issues.push(issueAt(p.doc, at, `JWKS file ${file} is larger than ${MAX_JWKS_BYTES} bytes`));
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the file: a private key pasted by mistake must not reach the logs (security.md §0.12).
    issues.push(issueAt(p.doc, at, `JWKS file ${file} is not valid JSON`));
    return undefined;
  }
  // Airlock: an invalid JWKS makes every validation fail; we refuse the configuration instead (louder, same effect).
  const checked = checkJwks(json, false);
  for (const w of checked.warnings) issues.push(issueAt(p.doc, at, `JWKS file ${file}: ${w}`, 'warning'));
  if (checked.error !== undefined) {
    issues.push(issueAt(p.doc, at, `JWKS file ${file}: ${checked.error}`));
    return undefined;
  }
  return { kind: 'inline', keys: checked.keys, origin: `${p.key} (${file})` };
}

function compileRemote(p: Parsed<JWKS>, remote: JWKSRemote, context: CompileContext, issues: ConfigIssue[]): KeySource | undefined {
  const base = ['spec', 'provider', 'remote'];
  let ok = true;
  const duration = (field: 'connect' | 'maxDuration'): number => {
    const ms = parsePositiveDuration(remote.timeouts[field]);
    if (typeof ms === 'number') return ms;
    issues.push(issueAt(p.doc, [...base, 'timeouts', field], ms));
    ok = false;
    return 0;
  };
  const connectTimeoutMs = duration('connect');
  const timeoutMs = duration('maxDuration');
  const https = remote.uri.startsWith('https://');
  if (!https) {
    issues.push(issueAt(p.doc, [...base, 'uri'], 'keys fetched over plain http:// can be replaced in transit', 'warning'));
  }
  if (remote.tls !== undefined && !https) {
    issues.push(issueAt(p.doc, [...base, 'tls'], 'tls settings have no effect on an http:// uri', 'warning'));
  }
  const tls = compileTls(p, remote, context, issues);
  if (tls === undefined || !ok) return undefined;
  return { kind: 'remote', uri: remote.uri, timeoutMs, connectTimeoutMs, tls };
}

function compileTls(p: Parsed<JWKS>, remote: JWKSRemote, context: CompileContext, issues: ConfigIssue[]): TlsSettings | undefined {
  const at = ['spec', 'provider', 'remote', 'tls'];
  const tls = remote.tls;
  let ok = true;
  const refuse = (path: readonly string[], what: string): void => {
    issues.push(issueAt(p.doc, [...at, ...path], `${what} is not supported (ignoring it would weaken TLS)`));
    ok = false;
  };
  if (tls?.ciphers !== undefined) refuse(['ciphers'], 'ciphers');
  if (tls?.protocol !== undefined) refuse(['protocol'], 'protocol');
  const verification = tls?.certificateVerification;
  if (verification?.disabled !== undefined) {
    // Security trade-off taken by the document's author; the CRD itself calls it insecure and for testing only.
    issues.push(issueAt(p.doc, [...at, 'certificateVerification', 'disabled'], 'certificate verification is disabled: insecure, for testing only', 'warning'));
    return ok ? { verify: false } : undefined;
  }
  const custom = verification?.custom;
  if (custom === undefined) return ok ? { verify: true } : undefined;
  const cat = [...at, 'certificateVerification', 'custom'];
  if (custom.allowedSANs !== undefined) refuse(['certificateVerification', 'custom', 'allowedSANs'], 'allowedSANs');
  if (custom.certificatePinning !== undefined) refuse(['certificateVerification', 'custom', 'certificatePinning'], 'certificatePinning');
  if (custom.crl !== undefined) refuse(['certificateVerification', 'custom', 'crl'], 'crl');
  const trusted = custom.trustedCA;
  if (trusted === undefined) {
    issues.push(issueAt(p.doc, cat, 'custom verification needs trustedCA (use publicCAs for the system roots)'));
    return undefined;
  }
  if (trusted.verificationDepth !== 1) {
    issues.push(issueAt(p.doc, [...cat, 'trustedCA', 'verificationDepth'], 'verificationDepth is ignored: the whole chain is verified up to a trusted CA', 'warning'));
  }
  if (trusted.certificates.length > 1) {
    issues.push(issueAt(p.doc, [...cat, 'trustedCA', 'certificates'], 'only one CA certificate entry is supported (put several certificates in one PEM file)'));
    return undefined;
  }
  const cert = trusted.certificates[0];
  if (cert === undefined) return undefined;
  const file = cert.file ?? secretFile(cert.secretRef?.name ?? '', 'ca.crt');
  const certAt = [...cat, 'trustedCA', 'certificates', 0, cert.file !== undefined ? 'file' : 'secretRef'];
  try {
    const pem = context.readFile(p.doc.file, file);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      issues.push(issueAt(p.doc, certAt, `${file} holds no PEM certificate`));
      return undefined;
    }
  } catch (err) {
    issues.push(issueAt(p.doc, certAt, `cannot read CA file ${file}: ${errorText(err)}`));
    return undefined;
  }
  const caFile = isAbsolute(file) ? file : resolve(dirname(p.doc.file), file);
  return ok ? { verify: true, caFile } : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
