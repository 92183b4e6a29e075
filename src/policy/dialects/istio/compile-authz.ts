import { NEVER, type Attribute, type Predicate, type StringMatcher, allOf, anyOf, not, testString } from '../../../model/matcher.js';
import type { AuthorizationPolicy, Rule } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { compilePathTemplate, isPathTemplate, issueAt, istioStringMatcher, parseCidr } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import type { CompileContext } from '../types.js';
import { istioScope } from './compile-authn.js';
import type { AuthorizationPolicyDoc, Condition, Operation, Source } from './schema.js';

type Path = (string | number)[];
/** Compiles one value of a field into a predicate, or returns an error message. */
type ValueCompiler = (value: string) => Predicate | string;

/** Compiles an AuthorizationPolicy (ALLOW / DENY / AUDIT). CUSTOM policies route to us and are skipped with a warning. */
export function compileAuthorizationPolicy(doc: RawDocument, ap: AuthorizationPolicyDoc, ctx: CompileContext, issues: ConfigIssue[]): AuthorizationPolicy | undefined {
  const spec = ap.spec;
  const action = spec.action ?? 'ALLOW';
  if (spec.provider !== undefined && action !== 'CUSTOM') issues.push(issueAt(doc, ['spec', 'provider'], 'provider can only be used with action CUSTOM'));
  if (action === 'CUSTOM') {
    issues.push(issueAt(doc, ['spec', 'action'], 'CUSTOM policies configure the proxy to call an external authorizer (this service); they are ignored here', 'warning'));
    return undefined;
  }
  if ((action === 'DENY' || action === 'AUDIT') && spec.rules === undefined) {
    // validation.go: a DENY/AUDIT policy without rules is meaningless; add an empty rule `{}` to match everything.
    issues.push(issueAt(doc, ['spec', 'rules'], `${action} policy without rules is meaningless; use rules: [{}] to match every request`));
  }
  const targetRefs = [...(spec.targetRefs ?? []), ...(spec.targetRef === undefined ? [] : [spec.targetRef])];
  if (spec.selector !== undefined && targetRefs.length > 0) issues.push(issueAt(doc, ['spec'], 'only one of selector or targetRefs can be set'));
  const before = issues.length;
  const policyNs = ap.metadata.namespace ?? 'default';
  const rules: Rule[] = (spec.rules ?? []).map((r, i) => {
    const path: Path = ['spec', 'rules', i];
    const parts: Predicate[] = [];
    if (r.from !== undefined) {
      if (r.from.length === 0) issues.push(issueAt(doc, [...path, 'from'], 'from must not be empty'));
      parts.push(anyOf(r.from.map((f, j) => compileSource(doc, f.source, [...path, 'from', j, 'source'], policyNs, issues))));
    }
    if (r.to !== undefined) {
      if (r.to.length === 0) issues.push(issueAt(doc, [...path, 'to'], 'to must not be empty'));
      parts.push(anyOf(r.to.map((t, j) => compileOperation(doc, t.operation, [...path, 'to', j, 'operation'], issues))));
    }
    (r.when ?? []).forEach((c, j) => parts.push(compileCondition(doc, c, [...path, 'when', j], policyNs, issues)));
    return { name: `rules[${i}]`, when: allOf(parts) };
  });
  if (issues.slice(before).some((i) => i.severity === 'error')) return undefined;
  return Object.freeze({
    id: `${doc.file}#${doc.index}`,
    name: `${policyNs}/${ap.metadata.name}`,
    scope: istioScope(ap.metadata, spec.selector, targetRefs, ctx),
    action,
    rules: Object.freeze(rules),
    unmatchedStatus: 403,
    dryRun: ap.metadata.annotations?.['istio.io/dry-run'] === 'true',
  });
}

/** values → any match; notValues → none matches (a missing attribute satisfies notValues). */
function field(doc: RawDocument, path: Path, values: readonly string[] | undefined, negated: boolean, compile: ValueCompiler, issues: ConfigIssue[]): Predicate | undefined {
  if (values === undefined) return undefined;
  const preds = values.map((v, i) => {
    const p = compile(v);
    if (typeof p === 'string') {
      issues.push(issueAt(doc, [...path, i], p));
      return NEVER;
    }
    return p;
  });
  const any = anyOf(preds);
  return negated ? not(any) : any;
}

function compileSource(doc: RawDocument, s: Source, path: Path, policyNs: string, issues: ConfigIssue[]): Predicate {
  const parts: (Predicate | undefined)[] = [];
  const add = (name: keyof Source, negated: boolean, c: ValueCompiler): void => {
    parts.push(field(doc, [...path, name], s[name], negated, c, issues));
  };
  if ((s.serviceAccounts ?? s.notServiceAccounts) !== undefined && (s.principals ?? s.notPrincipals ?? s.namespaces ?? s.notNamespaces) !== undefined) {
    issues.push(issueAt(doc, path, 'serviceAccounts cannot be used together with principals or namespaces'));
  }
  add('principals', false, principalOf);
  add('notPrincipals', true, principalOf);
  add('requestPrincipals', false, requestPrincipalOf);
  add('notRequestPrincipals', true, requestPrincipalOf);
  add('namespaces', false, namespaceOf);
  add('notNamespaces', true, namespaceOf);
  add('serviceAccounts', false, (v) => serviceAccountOf(v, policyNs));
  add('notServiceAccounts', true, (v) => serviceAccountOf(v, policyNs));
  add('trustDomains', false, trustDomainOf);
  add('notTrustDomains', true, trustDomainOf);
  add('ipBlocks', false, (v) => cidrOf({ kind: 'sourceIp' }, v));
  add('notIpBlocks', true, (v) => cidrOf({ kind: 'sourceIp' }, v));
  add('remoteIpBlocks', false, (v) => cidrOf({ kind: 'remoteIp' }, v));
  add('notRemoteIpBlocks', true, (v) => cidrOf({ kind: 'remoteIp' }, v));
  const set = parts.filter((p): p is Predicate => p !== undefined);
  if (set.length === 0) issues.push(issueAt(doc, path, 'source must set at least one field'));
  return allOf(set);
}

function compileOperation(doc: RawDocument, o: Operation, path: Path, issues: ConfigIssue[]): Predicate {
  const parts: (Predicate | undefined)[] = [];
  const add = (name: keyof Operation, negated: boolean, c: ValueCompiler): void => {
    parts.push(field(doc, [...path, name], o[name], negated, c, issues));
  };
  // Hosts compare case-insensitively (RFC 4343, Istio HostMatcher ignoreCase); the port is part of the authority.
  const host: ValueCompiler = (v) => testString({ kind: 'host' }, istioStringMatcher(v, true));
  const method: ValueCompiler = (v) => testString({ kind: 'method' }, istioStringMatcher(v));
  add('hosts', false, host);
  add('notHosts', true, host);
  add('ports', false, portOf);
  add('notPorts', true, portOf);
  add('methods', false, method);
  add('notMethods', true, method);
  add('paths', false, pathOf);
  add('notPaths', true, pathOf);
  const set = parts.filter((p): p is Predicate => p !== undefined);
  if (set.length === 0) issues.push(issueAt(doc, path, 'operation must set at least one field'));
  return allOf(set);
}

const CLAIM_KEY = /^request\.auth\.claims((?:\[[^\]]+\])+)$/;
const HEADER_KEY = /^request\.headers\[([^\]]+)\]$/;

function compileCondition(doc: RawDocument, c: Condition, path: Path, policyNs: string, issues: ConfigIssue[]): Predicate {
  if (c.values === undefined && c.notValues === undefined) {
    issues.push(issueAt(doc, path, 'condition needs values or notValues'));
    return NEVER;
  }
  const compile = conditionCompiler(c.key, policyNs);
  if (typeof compile === 'string') {
    issues.push(issueAt(doc, [...path, 'key'], compile));
    return NEVER;
  }
  const parts = [field(doc, [...path, 'values'], c.values, false, compile, issues), field(doc, [...path, 'notValues'], c.notValues, true, compile, issues)];
  return allOf(parts.filter((p): p is Predicate => p !== undefined));
}

/** The `when` keys of semantics §2.5; rejected keys give Istio's reason. */
function conditionCompiler(key: string, policyNs: string): ValueCompiler | string {
  const header = HEADER_KEY.exec(key);
  if (header?.[1] !== undefined) {
    const name = header[1].toLowerCase();
    return (v) => (v === '*' ? { kind: 'test', attribute: { kind: 'header', name }, test: { kind: 'exists' } } : testString({ kind: 'header', name }, istioStringMatcher(v)));
  }
  const claim = CLAIM_KEY.exec(key);
  if (claim?.[1] !== undefined) {
    // `[a][b]` is a nested path; `[foo.com/name]` is one literal claim name.
    const segs = claim[1].slice(1, -1).split('][');
    return (v) => testString({ kind: 'claim', path: segs, coercion: 'strings' }, istioStringMatcher(v));
  }
  switch (key) {
    case 'source.ip':
      return (v) => cidrOf({ kind: 'sourceIp' }, v);
    case 'remote.ip':
      return (v) => cidrOf({ kind: 'remoteIp' }, v);
    case 'destination.ip':
      return (v) => cidrOf({ kind: 'destinationIp' }, v);
    case 'destination.port':
      return portOf;
    case 'source.namespace':
      return namespaceOf;
    case 'source.principal':
      return principalOf;
    case 'source.serviceAccount':
      return (v) => serviceAccountOf(v, policyNs);
    case 'source.trustDomain':
      return trustDomainOf;
    case 'request.auth.principal':
      return requestPrincipalOf;
    case 'request.auth.audiences':
      return (v) => testString({ kind: 'claim', path: ['aud'], coercion: 'strings' }, istioStringMatcher(v));
    case 'request.auth.presenter':
      return (v) => testString({ kind: 'claim', path: ['azp'], coercion: 'strings' }, istioStringMatcher(v));
    case 'connection.sni':
      return (v) => testString({ kind: 'sni' }, istioStringMatcher(v));
    case 'destination.namespace':
    case 'destination.labels':
      return `${key} is not supported: use metadata.namespace / selector instead`;
    case 'destination.name':
    case 'destination.user':
      return `${key} is only supported in the v1alpha1 API`;
    default:
      if (key.startsWith('experimental.envoy.filters.')) return `${key}: Envoy filter metadata is not available to this service`;
      if (key.startsWith('destination.labels[')) return 'destination.labels is not supported: use selector instead';
      return `unknown condition key "${key}"`;
  }
}

const nonEmpty: StringMatcher = { kind: 'nonEmpty' };

/** Istio ≥ 1.21 request principal: split at the last `/`, iss and sub matched separately (semantics §1.5). */
function requestPrincipalOf(v: string): Predicate {
  if (v === '*') return { kind: 'requestPrincipal', issuer: nonEmpty, subject: nonEmpty };
  const slash = v.lastIndexOf('/');
  if (slash === -1) {
    if (v.startsWith('*')) return { kind: 'requestPrincipal', issuer: nonEmpty, subject: { kind: 'suffix', value: v.slice(1), ignoreCase: false } };
    if (v.endsWith('*')) return { kind: 'requestPrincipal', issuer: { kind: 'prefix', value: v.slice(0, -1), ignoreCase: false }, subject: nonEmpty };
    return NEVER; // an exact value without "/" names no iss/sub pair
  }
  return { kind: 'requestPrincipal', issuer: istioStringMatcher(v.slice(0, slash)), subject: istioStringMatcher(v.slice(slash + 1)) };
}

/** Peer identity: the value is matched against `spiffe://<value>` (Istio srcPrincipalGenerator). */
function principalOf(v: string): Predicate {
  const attr: Attribute = { kind: 'sourcePrincipal' };
  if (v === '*') return testString(attr, nonEmpty);
  if (v.startsWith('*')) return allOf([testString(attr, { kind: 'prefix', value: 'spiffe://', ignoreCase: false }), testString(attr, { kind: 'suffix', value: v.slice(1), ignoreCase: false })]);
  if (v.endsWith('*')) return testString(attr, { kind: 'prefix', value: `spiffe://${v.slice(0, -1)}`, ignoreCase: false });
  return testString(attr, { kind: 'exact', value: `spiffe://${v}`, ignoreCase: false });
}

function regexOn(attribute: Attribute, source: string, pattern: string): Predicate {
  const re = new RegExp(`^(?:${pattern})$`);
  return testString(attribute, { kind: 'regex', regex: { source, test: (s) => re.test(s) } });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `namespaces`: a regex on the peer principal matching `/ns/<ns>/` anywhere; `*` in the value means any characters. */
function namespaceOf(v: string): Predicate {
  return regexOn({ kind: 'sourcePrincipal' }, v, `.*/ns/${v.split('*').map(escape).join('.*')}/.*`);
}

function serviceAccountOf(v: string, policyNs: string): Predicate | string {
  if (v.includes('*')) return 'serviceAccounts do not support wildcards';
  const parts = v.split('/');
  const [ns, sa] = parts.length === 2 ? parts : [policyNs, v];
  if (parts.length > 2 || ns === undefined || sa === undefined || ns === '' || sa === '') return `"${v}" is not "<namespace>/<serviceaccount>" or "<serviceaccount>"`;
  return regexOn({ kind: 'sourcePrincipal' }, v, `spiffe://[^/]+/ns/${escape(ns)}/sa/${escape(sa)}`);
}

function trustDomainOf(v: string): Predicate | string {
  if (v === '*') return testString({ kind: 'sourcePrincipal' }, nonEmpty);
  const inner = v.replace(/^\*|\*$/g, '');
  if (inner.includes('*')) return 'trustDomains allow one wildcard, at the start or the end';
  const pattern = `${v.startsWith('*') ? '[^/]*' : ''}${escape(inner)}${v.endsWith('*') ? '[^/]*' : ''}`;
  return regexOn({ kind: 'sourcePrincipal' }, v, `spiffe://${pattern}/.*`);
}

function cidrOf(attribute: Attribute, v: string): Predicate | string {
  const r = parseCidr(v);
  return typeof r === 'string' ? r : { kind: 'test', attribute, test: { kind: 'cidr', ranges: [r] } };
}

function portOf(v: string): Predicate | string {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) return `port "${v}" is not in 0-65535`;
  return { kind: 'test', attribute: { kind: 'destinationPort' }, test: { kind: 'port', ports: [Number(v)] } };
}

/** Paths: URI templates when `{*}`/`{**}` appear (Istio ≥ 1.22), else exact / `prefix*` / `*suffix` / `*`. */
function pathOf(v: string): Predicate | string {
  if (isPathTemplate(v)) {
    const re = compilePathTemplate(v);
    return typeof re === 'string' ? re : testString({ kind: 'path' }, { kind: 'regex', regex: re });
  }
  if (v.includes('{') || v.includes('}')) return `path "${v}": "{" and "}" are only allowed in {*} and {**}`;
  return testString({ kind: 'path' }, istioStringMatcher(v));
}
