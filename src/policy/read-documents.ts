import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ConfigIssue } from './config-issue.js';

/** One YAML document from a policy file, not yet validated. */
export interface RawDocument {
  readonly file: string;
  /** 1-based position in its file. */
  readonly index: number;
  readonly apiVersion: string;
  readonly kind: string;
  /** The whole parsed document (`unknown`: validated by the dialect's zod schema). */
  readonly body: unknown;
}

export interface ReadResult {
  readonly documents: RawDocument[];
  readonly issues: ConfigIssue[];
  /** Every file read with its content, for the snapshot digest. */
  readonly sources: { readonly file: string; readonly text: string }[];
}

const YAML_FILE = /\.(ya?ml|json)$/i;
/** Upper bound for one policy file; a ConfigMap is limited to 1 MiB anyway. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Lists the policy files under `path` (a file, or a directory read recursively, sorted, dot-entries skipped). */
export function listPolicyFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      // Kubernetes ConfigMap volumes hold `..data` / `..2024_…` symlinked folders: read the visible names only.
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      const s = statSync(full);
      if (s.isDirectory()) walk(full);
      else if (s.isFile() && YAML_FILE.test(name)) out.push(full);
    }
  };
  walk(path);
  return out;
}

/** Reads and parses every YAML document under `path`. Syntax errors become issues; nothing throws. */
export function readDocuments(path: string): ReadResult {
  const documents: RawDocument[] = [];
  const issues: ConfigIssue[] = [];
  const sources: { file: string; text: string }[] = [];
  let files: string[];
  try {
    files = listPolicyFiles(path);
  } catch (err) {
    issues.push(fileIssue(path, `cannot read policies: ${errorText(err)}`));
    return { documents, issues, sources };
  }
  if (files.length === 0) issues.push(fileIssue(path, 'no policy files (*.yaml, *.yml, *.json) found'));
  for (const file of files) {
    let text: string;
    try {
      if (statSync(file).size > MAX_FILE_BYTES) {
        issues.push(fileIssue(file, `file larger than ${MAX_FILE_BYTES} bytes`));
        continue;
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push(fileIssue(file, `cannot read file: ${errorText(err)}`));
      continue;
    }
    sources.push({ file, text });
    parseText(file, text, documents, issues);
  }
  return { documents, issues, sources };
}

/** Parses one file's text into documents (exported for tests and `explain` on stdin). */
export function parseText(file: string, text: string, documents: RawDocument[], issues: ConfigIssue[]): void {
  // `uniqueKeys` (default true) makes duplicate mapping keys an error; aliases are capped against billion-laughs.
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  let index = 0;
  for (const doc of list) {
    index += 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        issues.push({ file, document: index, path: '', message: `YAML: ${e.message.split('\n')[0] ?? ''}`, severity: 'error' });
      }
      continue;
    }
    let body: unknown;
    try {
      body = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      issues.push({ file, document: index, path: '', message: `YAML: ${errorText(err)}`, severity: 'error' });
      continue;
    }
    if (body === null || body === undefined) continue; // an empty document (`---` at the end) is not an error
    if (typeof body !== 'object' || Array.isArray(body)) {
      issues.push({ file, document: index, path: '', message: 'document must be a mapping', severity: 'error' });
      continue;
    }
    const rec = body as Record<string, unknown>;
    const apiVersion = rec['apiVersion'];
    const kind = rec['kind'];
    if (typeof apiVersion !== 'string' || apiVersion === '') {
      issues.push({ file, document: index, path: 'apiVersion', message: 'Required', severity: 'error' });
      continue;
    }
    if (typeof kind !== 'string' || kind === '') {
      issues.push({ file, document: index, path: 'kind', message: 'Required', severity: 'error' });
      continue;
    }
    documents.push({ file, index, apiVersion, kind, body });
  }
}

function fileIssue(file: string, message: string): ConfigIssue {
  return { file, document: 0, path: '', message, severity: 'error' };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
