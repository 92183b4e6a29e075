import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../src/policy/config-issue.js';
import { type Dialect, DEFAULT_COMPILE_OPTIONS } from '../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../src/policy/read-documents.js';

/**
 * The fixture convention of STYLE.md for one dialect: every `valid/*.yaml` under `dir` compiles to the model in the
 * `.expected.json` beside it (regenerate with UPDATE_FIXTURES=1 and review the diff); every `invalid/*.yaml` yields
 * the issues its `# expect: <path>: <regex>` lines name. Files a document names are read next to it.
 */
export function describeDialectFixtures(dir: string, dialect: Dialect, extraInvalidCheck?: (result: ReturnType<Dialect['compile']>) => void): void {
  const compileFile = (sub: string, name: string): { text: string; result: ReturnType<Dialect['compile']> } => {
    const text = readFileSync(`${dir}${sub}/${name}`, 'utf8');
    const documents: RawDocument[] = [];
    const parseIssues: ConfigIssue[] = [];
    parseText(`${sub}/${name}`, text, documents, parseIssues);
    expect(parseIssues).toEqual([]);
    const readFile = (from: string, path: string): string => readFileSync(`${dir}${from.slice(0, from.lastIndexOf('/') + 1)}${path}`, 'utf8');
    return { text, result: dialect.compile(documents, { options: DEFAULT_COMPILE_OPTIONS, readFile }) };
  };
  const yamlIn = (sub: string): string[] => readdirSync(`${dir}${sub}`).filter((f) => f.endsWith('.yaml')).sort();
  const json = (v: unknown): string => `${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;

  describe('valid fixtures', () => {
    it.each(yamlIn('valid'))('%s', (name) => {
      const { result } = compileFile('valid', name);
      expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
      const actual = json({ issues: result.issues, fragment: result.fragment });
      const expectedFile = `${dir}valid/${name.replace(/\.yaml$/, '.expected.json')}`;
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
      extraInvalidCheck?.(result);
    });
  });
}
