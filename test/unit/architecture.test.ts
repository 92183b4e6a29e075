import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The import directions of STYLE.md, checked on the source: the request path and the config path never depend on
// each other, the model depends on nothing, only grpc/ knows protobuf, dialects never import one another.
const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a file, as a path relative to src/ (e.g. `check/jwks.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
    const target = resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'));
    out.push(relative(SRC, target));
  }
  return out;
}

const graph = files(SRC).map((f) => ({ file: relative(SRC, f), imports: importsOf(f), text: readFileSync(f, 'utf8') }));

describe('architecture', () => {
  it('model/ imports nothing else from src/', () => {
    for (const { file, imports } of graph.filter((g) => g.file.startsWith('model/'))) {
      expect(imports.filter((i) => !i.startsWith('model/')), file).toEqual([]);
    }
  });

  it('check/ (request path) and policy/ (config path) never import each other', () => {
    for (const { file, imports } of graph) {
      if (file.startsWith('check/')) expect(imports.filter((i) => i.startsWith('policy/')), file).toEqual([]);
      if (file.startsWith('policy/')) expect(imports.filter((i) => i.startsWith('check/')), file).toEqual([]);
    }
  });

  it('only grpc/ knows protobuf, and only main.ts / cli.ts import grpc/', () => {
    for (const { file, imports, text } of graph) {
      if (file.startsWith('grpc/')) continue;
      expect(/@grpc\/|protobufjs/.test(text), `${file} mentions gRPC or protobuf`).toBe(false);
      if (file !== 'main.ts' && file !== 'cli.ts') expect(imports.filter((i) => i.startsWith('grpc/')), file).toEqual([]);
    }
  });

  it('a dialect never imports another dialect, and only the registry imports dialects', () => {
    const dialectOf = (p: string): string | undefined => /^policy\/dialects\/([^/]+)\//.exec(p)?.[1];
    for (const { file, imports } of graph) {
      const own = dialectOf(file);
      for (const i of imports) {
        const other = dialectOf(i);
        if (other === undefined) continue;
        if (own !== undefined) expect(other, `${file} imports ${i}`).toBe(own);
        else expect(file, `${file} imports ${i}`).toBe('policy/dialects/index.ts');
      }
    }
  });

  it('importing a module has no side effects on the environment (no process.env reads outside main/cli/env)', () => {
    for (const { file, text } of graph) {
      if (['main.ts', 'cli.ts', 'env.ts'].includes(file)) continue;
      expect(/process\.env/.test(text), file).toBe(false);
    }
  });
});
