/**
 * A small Dockerfile reader for tests (line continuations, comments, stages, exec-form JSON arguments) and a
 * `.dockerignore` matcher following Docker's rules (patterns anchored at the context root, `*` within a path
 * segment, `**` across segments, `!` re-includes, the last matching pattern wins, a match on a folder covers
 * everything below it).
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  /** Index of the stage (FROM) the instruction belongs to. */
  readonly stage: number;
}

/** Parses a Dockerfile into instructions. */
export function readDockerfile(file: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^(\w+)\s*(.*)$/.exec(full);
    if (m === null) continue;
    const keyword = (m[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage += 1;
    out.push({ keyword, args: (m[2] ?? '').replace(/\s+/g, ' ').trim(), stage });
  }
  return out;
}

/** Exec-form (`["a", "b"]`) arguments, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? (parsed as string[]) : undefined;
}

/** COPY/ADD sources and destination, with `--from`/`--chown`-style flags separated out. */
export function copyParts(args: string): { readonly flags: Map<string, string>; readonly sources: string[]; readonly dest: string } {
  const words = execForm(args) ?? args.split(' ');
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (const w of words) {
    const f = /^--([a-z-]+)(?:=(.*))?$/.exec(w);
    if (f !== null && rest.length === 0) flags.set(f[1] ?? '', f[2] ?? '');
    else rest.push(w);
  }
  return { flags, sources: rest.slice(0, -1), dest: rest.at(-1) ?? '' };
}

function patternToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i += 1;
      if (pattern[i + 1] === '/') i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The patterns of a `.dockerignore` file. */
export function readDockerignore(file: string): { readonly negate: boolean; readonly regex: RegExp }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: patternToRegex(p) };
    });
}

/** true when `path` (relative to the context root) is left out of the build context. */
export function isIgnored(patterns: ReturnType<typeof readDockerignore>, path: string): boolean {
  const parts = path.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  let ignored = false;
  for (const p of patterns) {
    // A pattern matching the path or any folder above it applies.
    for (let n = 1; n <= parts.length; n++) {
      if (p.regex.test(parts.slice(0, n).join('/'))) {
        ignored = !p.negate;
        break;
      }
    }
  }
  return ignored;
}
