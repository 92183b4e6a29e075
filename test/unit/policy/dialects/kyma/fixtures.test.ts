/**
 * test/fixtures/policies/kyma: every valid/*.yaml compiles to the model in the `.expected.json` beside it
 * (regexes appear by their source); every invalid/*.yaml yields the issues its `# expect: <path>: <regex>` lines name.
 * Regenerate the expected models with `UPDATE_FIXTURES=1 npx vitest run test/unit/policy/dialects/kyma` and review the diff.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../../../../src/policy/config-issue.js';
import { kymaDialect } from '../../../../../src/policy/dialects/kyma/index.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../../../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../../../../src/policy/read-documents.js';

const DIR = fileURLToPath(new URL('../../../../fixtures/policies/kyma/', import.meta.url));

function compileFile(dir: string, name: string): { text: string; result: ReturnType<typeof kymaDialect.compile> } {
  const text = readFileSync(`${DIR}${dir}/${name}`, 'utf8');
  const documents: RawDocument[] = [];
  const parseIssues: ConfigIssue[] = [];
  parseText(`${dir}/${name}`, text, documents, parseIssues);
  expect(parseIssues).toEqual([]);
  return { text, result: kymaDialect.compile(documents, { options: DEFAULT_COMPILE_OPTIONS, readFile: () => '' }) };
}

const yamlIn = (dir: string): string[] => readdirSync(`${DIR}${dir}`).filter((f) => f.endsWith('.yaml')).sort();

describe('valid fixtures', () => {
  it.each(yamlIn('valid'))('%s', (name) => {
    const { result } = compileFile('valid', name);
    expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const actual = `${JSON.stringify({ issues: result.issues, fragment: result.fragment }, null, 2)}\n`;
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
    expect(result.fragment.authorizationPolicies).toEqual([]);
  });
});
