import { isIP } from 'node:net';

/** Parses an IPv4 or IPv6 address to an integer; undefined when invalid. IPv4-mapped IPv6 stays IPv6. */
export function parseIp(text: string): { version: 4 | 6; value: bigint } | undefined {
  const kind = isIP(text);
  if (kind === 4) {
    let v = 0n;
    for (const p of text.split('.')) v = (v << 8n) | BigInt(Number(p));
    return { version: 4, value: v };
  }
  if (kind !== 6) return undefined;
  let t = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    // `::ffff:1.2.3.4`: turn the dotted tail into two hex groups.
    const v4 = parseIp(tail);
    if (v4?.version !== 4) return undefined;
    t = `${t.slice(0, lastColon + 1)}${(v4.value >> 16n).toString(16)}:${(v4.value & 0xffffn).toString(16)}`;
  }
  const halves = t.split('::');
  const left = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const right = halves.length > 1 && halves[1] !== '' && halves[1] !== undefined ? halves[1].split(':') : [];
  const groups = halves.length > 1 ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return { version: 6, value: v };
}
