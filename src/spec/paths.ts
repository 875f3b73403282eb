// OCI field paths: how ts-runc names a place in config.json, state.json, ... in messages.
// `["linux", "namespaces", 1, "type"]` is written `linux.namespaces[1].type`; member names
// that are not identifiers are quoted: `linux.sysctl["net.ipv4.ip_forward"]`.

/** A path segment: object member name (string) or array index (number). */
export type Segment = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENT.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Whether formatted path `child` lies strictly below formatted path `parent` ('' is the root). */
export function isUnder(child: string, parent: string): boolean {
  if (parent === '') return child !== '';
  return (
    child.length > parent.length &&
    child.startsWith(parent) &&
    (child[parent.length] === '.' || child[parent.length] === '[')
  );
}
