/**
 * Readable PromQL for the rule files: an expression that does not fit on one line is broken at its
 * aggregations, function calls, parentheses and binary operators, with indentation, the way
 * Prometheus' own formatter (promql/parser/prettier.go, the UI's "Format expression") lays it out:
 * two spaces per level, lines of at most 100 characters where a node fits, an aggregation's or
 * call's arguments on their own lines inside `(` `)`, a binary operator (with `bool`, `on`,
 * `group_left`) on its own line between its operands, which are indented one level deeper.
 * One addition: a chain of the same operator (`a or b or c`) is one level, not a staircase.
 *
 * The layout comes from the parse tree of the Prometheus project's grammar
 * (@prometheus-io/lezer-promql), and only whitespace between tokens changes: the tokens and their
 * order stay exactly as generated, so Prometheus parses the formatted expression exactly as the
 * one-line one (test/observability/promql-format.test.ts checks both).
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

/** Prometheus' prettier: `maxCharactersPerLine`. */
const MAX_WIDTH = 100;
const INDENT = '  ';

const indent = (level: number): string => INDENT.repeat(level);

function children(node: SyntaxNode): SyntaxNode[] {
  const result: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) result.push(child);
  return result;
}

class Formatter {
  constructor(private readonly source: string) {}

  private text(from: number, to: number): string {
    return this.source.slice(from, to);
  }

  /** `node` at `level`, with `suffix` (e.g. ` offset 7d`) appended to its last line. */
  format(node: SyntaxNode, level: number, suffix = ''): string {
    const flat = this.text(node.from, node.to);
    if (indent(level).length + flat.length + suffix.length <= MAX_WIDTH)
      return indent(level) + flat + suffix;
    switch (node.name) {
      case 'PromQL':
        return this.format(node.firstChild!, level, suffix);
      case 'BinaryExpr':
        return this.binary(node, level, suffix);
      case 'AggregateExpr':
      case 'FunctionCall':
        return this.call(node, level, suffix);
      case 'ParenExpr': {
        const [inner] = children(node);
        return `${indent(level)}(\n${this.format(inner!, level + 1)}\n${indent(level)})${suffix}`;
      }
      case 'OffsetExpr': {
        // The modifier belongs to the end of what it follows (the lezer grammar may attach it to a
        // whole binary expression: appending it to the last operand keeps the token order either way).
        const [inner] = children(node);
        return this.format(inner!, level, this.text(inner!.to, node.to) + suffix);
      }
      default:
        // Selectors, literals, subqueries, unary expressions: one line, however long.
        return indent(level) + flat + suffix;
    }
  }

  /** Operands of a chain of one operator with the same modifiers (`a or b or c`), left to right. */
  private operands(node: SyntaxNode): { operands: SyntaxNode[]; operator: string } {
    const parts = children(node);
    const lhs = parts[0]!;
    const rhs = parts.at(-1)!;
    const operator = this.text(lhs.to, rhs.from).trim();
    if (lhs.name === 'BinaryExpr') {
      const inner = this.operands(lhs);
      if (inner.operator === operator) return { operands: [...inner.operands, rhs], operator };
    }
    return { operands: [lhs, rhs], operator };
  }

  private binary(node: SyntaxNode, level: number, suffix: string): string {
    const { operands, operator } = this.operands(node);
    return operands
      .map((operand, index) =>
        this.format(operand, level + 1, index === operands.length - 1 ? suffix : ''),
      )
      .join(`\n${indent(level)}${operator}\n`);
  }

  /** `head(` args `)tail`: an aggregation (`sum by (image) (`) or a function call. */
  private call(node: SyntaxNode, level: number, suffix: string): string {
    const body = children(node).find((child) => child.name === 'FunctionCallBody');
    if (body === undefined) return indent(level) + this.text(node.from, node.to) + suffix;
    const head = this.text(node.from, body.from);
    const tail = this.text(body.to, node.to);
    const args = children(body).map((arg) => this.format(arg, level + 1));
    return `${indent(level)}${head}(\n${args.join(',\n')}\n${indent(level)})${tail}${suffix}`;
  }
}

/** Throws on an expression the grammar cannot parse: the generator only emits valid PromQL. */
export function formatPromql(expr: string): string {
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.type.isError)
        throw new Error(`formatPromql: not valid PromQL at ${node.from}: ${expr}`);
    },
  });
  if (expr.includes('\n')) throw new Error(`formatPromql: expects a one-line expression: ${expr}`);
  return new Formatter(expr).format(tree.topNode, 0);
}
