/** One problem found in a policy document, with where it is. Collected, never thrown one by one. */
export interface ConfigIssue {
  /** File path as given to the loader. */
  readonly file: string;
  /** 1-based index of the YAML document inside the file (0 = the file itself). */
  readonly document: number;
  /** Field path in the document (`spec.jwtRules[0].issuer`), empty for the whole document. */
  readonly path: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Renders a zod-style path (`['spec','jwtRules',0,'issuer']`) as `spec.jwtRules[0].issuer`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** `file#doc path: message`, the one format every command prints. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.document > 0 ? `${issue.file}#${issue.document}` : issue.file;
  const prefix = issue.severity === 'warning' ? 'warning: ' : '';
  return `${prefix}${where}${issue.path === '' ? '' : ` ${issue.path}`}: ${issue.message}`;
}
