/**
 * Evaluates a generated ValidatingAdmissionPolicy the way the API server does, with @bufbuild/cel:
 * `object` is the request's object as an untyped map (integers as CEL ints, as the API server's
 * unstructured JSON has them), variables in order (each may read the earlier ones), then every
 * validation; a false one is refused with its messageExpression (or its message when that fails).
 *
 * Only functions that Kubernetes' CEL environment also has are allowed: `checkKubernetesCel`
 * walks every parsed expression and rejects any other function or a two-variable comprehension,
 * so a policy that passes here cannot lean on something @bufbuild/cel has and Kubernetes lacks.
 */
import { type CelInput, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

interface NamedExpression {
  readonly name: string;
  readonly expression: string;
}
interface Validation {
  readonly expression: string;
  readonly messageExpression?: string;
  readonly message?: string;
}
export interface PolicyObject {
  readonly spec: {
    readonly variables?: readonly NamedExpression[];
    readonly validations: readonly Validation[];
  };
}

/**
 * Standard CEL operators and functions, and `join` of Kubernetes' strings library: the set the
 * policy may use (Kubernetes CEL: https://kubernetes.io/docs/reference/using-api/cel/).
 */
const KUBERNETES_CEL_FUNCTIONS = new Set([
  '_&&_',
  '_||_',
  '!_',
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '_+_',
  '_-_',
  '_?_:_',
  '_[_]',
  '@in',
  '@not_strictly_false',
  'size',
  'has',
  'dyn',
  'string',
  'int',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  'join',
  // The standard macros, as @bufbuild/cel's parser leaves them (calls, not comprehensions).
  'all',
  'exists',
  'exists_one',
  'filter',
  'map',
]);

type AstNode = { exprKind?: { case?: string; value?: Record<string, unknown> } };

function* calls(node: unknown): Generator<{ kind: string; detail: string }> {
  if (node === null || typeof node !== 'object') return;
  const kind = (node as AstNode).exprKind;
  if (kind?.case === 'callExpr') yield { kind: 'call', detail: String(kind.value?.function) };
  if (kind?.case === 'comprehensionExpr' && kind.value?.iterVar2 !== '')
    yield { kind: 'two-variable comprehension', detail: String(kind.value?.iterVar2) };
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) for (const item of value) yield* calls(item);
    else if (value !== null && typeof value === 'object') yield* calls(value);
  }
}

/** Every function or construct in `expression` that Kubernetes' CEL lacks (empty when all are there). */
export function nonKubernetesCel(expression: string): string[] {
  return [...calls(parse(expression).expr)]
    .filter(({ kind, detail }) => kind !== 'call' || !KUBERNETES_CEL_FUNCTIONS.has(detail))
    .map(({ kind, detail }) => `${kind} ${detail}`);
}

/** JSON -> CEL input as the API server's unstructured object: maps, lists, int64 integers. */
export function celValue(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(celValue);
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value !== null && typeof value === 'object')
    return new Map(Object.entries(value).map(([key, v]) => [key, celValue(v)]));
  return value as CelInput;
}

const env = celEnv({ funcs: strings });
type Program = (bindings: Record<string, CelInput>) => unknown;
const programs = new Map<string, Program>();

/** Parsed and planned once per expression (a policy has ~50; the tests evaluate them thousands of times). */
function programOf(expression: string): Program {
  let program = programs.get(expression);
  if (program === undefined) {
    program = plan(env, parse(expression));
    programs.set(expression, program);
  }
  return program;
}

function evaluate(expression: string, bindings: Record<string, CelInput>): unknown {
  let result: unknown;
  try {
    result = programOf(expression)(bindings);
  } catch (error) {
    throw new Error(`CEL error in ${expression}: ${(error as Error).message}`, { cause: error });
  }
  if (isCelError(result)) throw new Error(`CEL error in ${expression}: ${result.message}`);
  return result;
}

/** The messages of every validation that refuses `object` (empty: admitted). A CEL error throws (failurePolicy Fail would refuse). */
export function refusals(policy: PolicyObject, object: unknown): string[] {
  const variables = new Map<string, CelInput>();
  const bound: Record<string, CelInput> = { object: celValue(object), variables };
  const bindings = (): Record<string, CelInput> => bound;
  for (const variable of policy.spec.variables ?? [])
    variables.set(variable.name, evaluate(variable.expression, bindings()) as CelInput);
  const messages: string[] = [];
  for (const validation of policy.spec.validations) {
    const passed = evaluate(validation.expression, bindings());
    if (typeof passed !== 'boolean')
      throw new Error(`validation ${validation.expression} returned ${String(passed)}, not a bool`);
    if (passed) continue;
    const message =
      validation.messageExpression === undefined
        ? validation.message
        : evaluate(validation.messageExpression, bindings());
    if (typeof message !== 'string' || message.includes('\n'))
      throw new Error(`message of ${validation.expression} is not a one-line string`);
    messages.push(message);
  }
  return messages;
}
