/**
 * The YAML configuration format (Liftbridge ≥ 1.0, docs/configuration.md "YAML"): nested maps and flattened dotted
 * keys are equivalent and may be mixed. The document is flattened to dotted keys with the line
 * each value is on; checking keys and values is the caller's job.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Scalar, type YAMLMap } from 'yaml';
import type { RawScalar, RawValue } from './config-settings';

export interface FileEntry {
  /** Dotted key as written (not yet lower-cased or mapped). */
  readonly key: string;
  /** null = an empty value, which leaves the setting unset. */
  readonly value: RawValue | null;
  readonly line: number;
}

export type FileParse =
  | { readonly kind: 'entries'; readonly entries: readonly FileEntry[] }
  /** The text is a single plain scalar: not a YAML map, so probably the pre-1.0 brace format. */
  | { readonly kind: 'not-yaml' }
  | { readonly kind: 'invalid'; readonly message: string; readonly line?: number };

/** Nesting deeper than this is certainly not a Liftbridge configuration. */
export const MAX_NESTING = 16;

class YamlShapeError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

export function parseYamlConfig(text: string): FileParse {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, version: '1.2' });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line;
    const column = first.linePos?.[0].col;
    const reason = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const where = line === undefined ? '' : ` at line ${line}${column === undefined ? '' : `, column ${column}`}`;
    return { kind: 'invalid', message: `YAML syntax error${where}: ${reason}`, ...(line === undefined ? {} : { line }) };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { kind: 'entries', entries: [] };
  if (isScalar(root) && typeof root.value === 'string') return { kind: 'not-yaml' };
  const lineOf = (node: Node | null | undefined): number | undefined =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  if (!isMap(root)) {
    return { kind: 'invalid', message: 'the configuration must be a map of settings', line: lineOf(root) ?? 1 };
  }
  const entries: FileEntry[] = [];
  try {
    flatten(root, '', 0, entries, lineOf);
  } catch (e) {
    if (!(e instanceof YamlShapeError)) throw e;
    return { kind: 'invalid', message: e.message, ...(e.line === undefined ? {} : { line: e.line }) };
  }
  return { kind: 'entries', entries };
}

function flatten(
  map: YAMLMap,
  prefix: string,
  depth: number,
  out: FileEntry[],
  lineOf: (node: Node | null | undefined) => number | undefined,
): void {
  if (depth > MAX_NESTING) throw new YamlShapeError(`settings nested deeper than ${MAX_NESTING} levels`, lineOf(map));
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      throw new YamlShapeError('a setting name must be a plain string', lineOf(keyNode) ?? lineOf(map));
    }
    const key = prefix === '' ? String(keyNode.value) : `${prefix}.${String(keyNode.value)}`;
    const valueNode = pair.value as Node | null;
    const line = lineOf(valueNode) ?? lineOf(keyNode) ?? 1;
    if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) {
      out.push({ key, value: null, line });
    } else if (isMap(valueNode)) {
      flatten(valueNode, key, depth + 1, out, lineOf);
    } else if (isSeq(valueNode)) {
      const items = valueNode.items.map((item) => {
        if (!isScalar(item) || item.value === null) {
          throw new YamlShapeError(`the list "${key}" may only contain plain values`, lineOf(item as Node) ?? line);
        }
        return scalarText(item);
      });
      out.push({ key, value: items, line });
    } else if (isScalar(valueNode)) {
      out.push({ key, value: scalarText(valueNode), line });
    } else if (isAlias(valueNode)) {
      throw new YamlShapeError(`YAML aliases are not supported (setting "${key}")`, line);
    } else {
      throw new YamlShapeError(`unsupported YAML value for "${key}"`, line);
    }
  }
}

/**
 * A plain scalar is kept as written (so `password: 0123` stays "0123" and `1e3` is not silently
 * an integer); quoted and block scalars give their string value.
 */
function scalarText(node: Scalar): RawScalar {
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  const v = node.value;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
}
