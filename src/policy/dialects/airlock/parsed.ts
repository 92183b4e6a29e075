import type { RawDocument } from '../../read-documents.js';

/** A document that passed its schema, with the `namespace/name` other documents refer to it by. */
export interface Parsed<T> {
  readonly doc: RawDocument;
  readonly value: T;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
}

/** `namespace/name` of a same-namespace reference. */
export function refKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
