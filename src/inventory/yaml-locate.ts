/**
 * Maps a path into the parsed data (as zod reports it) back to a position in the YAML source, so
 * that every inventory error can name its line and column.
 */
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from 'yaml';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type PathSegment = PropertyKey;

/**
 * What a position is wanted for: the value at `path` (or, when it is missing, the map that
 * should hold it), or the key at the end of `path` (an unknown key, an invalid record key).
 */
export type Target = 'value' | 'key';

export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Line and column (1-based) of the node `path` names, or of its nearest existing ancestor. */
  position(path: readonly PathSegment[], target: Target = 'value'): Position {
    let node = this.resolve(this.doc.contents);
    let best = this.startOf(node) ?? 0;
    for (const [index, segment] of path.entries()) {
      const step = this.child(node, segment);
      if (step === undefined) return this.positionAt(best);
      const isLast = index === path.length - 1;
      if (isLast && target === 'key' && step.key !== undefined)
        return this.positionAt(this.startOf(step.key) ?? best);
      // An empty value (`schedule:` with nothing after it) has no text of its own: point at its key.
      const valueStart = isEmpty(step.value) ? undefined : this.startOf(step.value);
      best = valueStart ?? (step.key !== undefined ? this.startOf(step.key) : undefined) ?? best;
      node = this.resolve(step.value);
    }
    return this.positionAt(best);
  }

  /** The source text of the scalar at `path`, when there is one (e.g. `1.10` that YAML read as 1.1). */
  scalarSource(path: readonly PathSegment[], text: string): string | undefined {
    let node = this.resolve(this.doc.contents);
    for (const segment of path) {
      const step = this.child(node, segment);
      if (step === undefined) return undefined;
      node = this.resolve(step.value);
    }
    if (!isScalar(node) || !node.range) return undefined;
    return text.slice(node.range[0], node.range[1]);
  }

  private child(node: Node | undefined, segment: PathSegment): Step | undefined {
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) return undefined;
      return {
        key: isNode(pair.key) ? pair.key : undefined,
        value: isNode(pair.value) ? pair.value : undefined,
      };
    }
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      return item === undefined
        ? undefined
        : { key: undefined, value: isNode(item) ? item : undefined };
    }
    return undefined;
  }

  private resolve(node: unknown): Node | undefined {
    if (isAlias(node)) return node.resolve(this.doc);
    return isNode(node) ? node : undefined;
  }

  private startOf(node: Node | undefined): number | undefined {
    return node?.range?.[0];
  }

  /** Line and column (1-based) of a character offset in the source. */
  positionAt(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  }
}

/** One step down the document: a map entry (key and value) or a list item (value only). */
interface Step {
  readonly key: Node | undefined;
  readonly value: Node | undefined;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function isEmpty(node: Node | undefined): boolean {
  return (
    isScalar(node) &&
    node.value === null &&
    (node.range === undefined || node.range === null || node.range[0] === node.range[1])
  );
}
