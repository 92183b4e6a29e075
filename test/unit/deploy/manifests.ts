/**
 * Helpers for the deployment-file tests: every YAML document under a folder, CLI flags out of an argument
 * list, and Kubernetes lookups (named ports, label selectors).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dig, isJson, type Json } from './envoy-config.js';

export interface Manifest {
  readonly file: string;
  readonly index: number;
  readonly body: Json;
}

/** YAML files under `dir`, recursively, sorted. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(name)) out.push(full);
  }
  return out;
}

/** Every document of every YAML file under `dir`; a syntax error throws (the test fails with its message). */
export function readManifests(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const file of yamlFiles(dir)) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
      if (doc.errors.length > 0) throw new Error(`${file}#${i + 1}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const body: unknown = doc.toJS();
      if (isJson(body)) out.push({ file, index: i + 1, body });
    });
  }
  return out;
}

/** Documents of one kind (optionally one name). */
export function ofKind(manifests: readonly Manifest[], kind: string, name?: string): Manifest[] {
  return manifests.filter((m) => m.body['kind'] === kind && (name === undefined || dig(m.body, 'metadata', 'name') === name));
}

/** `--flag value` pairs of an argument list (a flag given twice is an error: which one wins depends on the parser). */
export function flagsOf(args: readonly unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const [name, value] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, String(args[i + 1] ?? '')];
    if (out.has(name)) throw new Error(`flag ${name} given twice`);
    out.set(name, value);
    if (eq < 0) i += 1;
  }
  return out;
}

/** true when every label of `selector` is in `labels` with the same value (and the selector is not empty). */
export function selects(selector: unknown, labels: unknown): boolean {
  if (!isJson(selector) || !isJson(labels)) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** Resolves a probe/Service target port (number or container port name) to a number. */
export function resolvePort(port: unknown, containerPorts: readonly unknown[]): number | undefined {
  if (typeof port === 'number') return port;
  const named = containerPorts.find((p) => dig(p, 'name') === port);
  const n = dig(named, 'containerPort');
  return typeof n === 'number' ? n : undefined;
}
