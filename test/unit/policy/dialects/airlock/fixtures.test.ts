/**
 * test/fixtures/policies/airlock: every valid/*.yaml compiles to the model in the `.expected.json` beside it
 * (regexes appear by their source, CIDR networks as decimal strings); every invalid/*.yaml yields the issues its
 * `# expect: <path>: <regex>` lines name. Files the documents name (JWKS, CA) are read next to the document.
 * Regenerate the expected models with `UPDATE_FIXTURES=1 npx vitest run test/unit/policy/dialects/airlock` and
 * review the diff.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../../../../src/policy/config-issue.js';
import { airlockDialect } from '../../../../../src/policy/dialects/airlock/index.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../../../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../../../../src/policy/read-documents.js';

const DIR = fileURLToPath(new URL('../../../../fixtures/policies/airlock/', import.meta.url));

function compileFile(dir: string, name: string): { text: string; result: ReturnType<typeof airlockDialect.compile> } {
  const text = readFileSync(`${DIR}${dir}/${name}`, 'utf8');
  const documents: RawDocument[] = [];
  const parseIssues: ConfigIssue[] = [];
  parseText(`${dir}/${name}`, text, documents, parseIssues);
  expect(parseIssues).toEqual([]);
  const readFile = (from: string, path: string): string => readFileSync(`${DIR}${from.slice(0, from.lastIndexOf('/') + 1)}${path}`, 'utf8');
  return { text, result: airlockDialect.compile(documents, { options: DEFAULT_COMPILE_OPTIONS, readFile }) };
}

const yamlIn = (dir: string): string[] => readdirSync(`${DIR}${dir}`).filter((f) => f.endsWith('.yaml')).sort();

const json = (v: unknown): string => `${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;

describe('valid fixtures', () => {
  it.each(yamlIn('valid'))('%s', (name) => {
    const { result } = compileFile('valid', name);
    expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const actual = json({ issues: result.issues, fragment: result.fragment });
    const expectedFile = `${DIR}valid/${name.replace(/\.yaml$/, '.expected.json')}`;
    if (process.env['UPDATE_FIXTURES'] === '1') writeFileSync(expectedFile, actual);
    expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
  });
});

describe('invalid fixtures', () => {
  it.each(yamlIn('invalid'))('%s', (name) => {
    const { text, result } = compileFile('invalid', name);
    const expectations = [...text.matchAll(/^# expect: (\S+): (.+)$/gm)].map((m) => ({ path: m[1] ?? '', message: new RegExp(m[2] ?? '') }));
    expect(expectations.length).toBeGreaterThan(0);
    for (const e of expectations) {
      expect(result.issues.filter((i) => i.severity === 'error' && i.path === e.path).map((i) => i.message)).toContainEqual(expect.stringMatching(e.message));
    }
  });
});
