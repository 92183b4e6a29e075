/** Shared assertions for the hostile-input tables: status, deny reason, challenge header. */
import { expect } from 'vitest';
import { bodyOf, headerOf, httpStatusOf, type CheckResponseObject } from '../helpers/upstream-client.js';

/** One row of a hostile-input table. */
export interface Expected {
  /** 200 (allow), 400, 401 or 403. */
  readonly status: 200 | 400 | 401 | 403;
  /** The deny reason enum in the body (required for denials). */
  readonly reason?: string;
}

/** Tally across a file: how many hostile rows (expected deny) were tried, and how many were wrongly allowed. */
export class HostileTally {
  tried = 0;
  wronglyAllowed = 0;
  record(expected: Expected, resp: CheckResponseObject): void {
    if (expected.status === 200) return;
    this.tried += 1;
    if (httpStatusOf(resp) === 200) this.wronglyAllowed += 1;
  }
  summary(file: string): string {
    return `${file}: ${this.tried} hostile inputs tried, ${this.wronglyAllowed} wrongly allowed`;
  }
}

/** Asserts the gRPC code, HTTP status, deny reason and (for 401) the Bearer challenge of a response. */
export function expectDecision(resp: CheckResponseObject, expected: Expected): void {
  const status = httpStatusOf(resp);
  const body = bodyOf(resp) as { error?: string } | undefined;
  expect({ status, reason: body?.error }).toEqual({ status: expected.status, reason: expected.status === 200 ? undefined : expected.reason });
  const grpc = resp.status?.code ?? 0;
  expect(grpc).toBe({ 200: 0, 400: 3, 401: 16, 403: 7 }[expected.status]);
  if (expected.status === 401) {
    const challenge = headerOf(resp, 'www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer realm="(?:[^"\\]|\\.)*", error="invalid_(token|request)"$/);
    expect(challenge).toContain(expected.reason === 'multiple_tokens' ? 'error="invalid_request"' : 'error="invalid_token"');
  }
}
