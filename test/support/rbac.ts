/**
 * RBAC authorisation (rbac.authorization.k8s.io/v1) over generated objects, as the API server
 * decides it for a ServiceAccount: allowed when any rule of any (Cluster)Role bound to it matches
 * the verb, the resource and, where the rule names them, the object's name. Namespaced grants
 * through a RoleBinding hold only in the binding's namespace.
 */
import type { K8sObject } from './k8s-validate.ts';

export interface Request {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  /** Absent for list, watch and create: rules with resourceNames never match those. */
  readonly name?: string;
}

interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}
interface Binding {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly {
    readonly kind: string;
    readonly name: string;
    readonly namespace?: string;
  }[];
}
interface Role {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly rules?: readonly Rule[];
}

const any = (values: readonly string[] | undefined, value: string) =>
  values !== undefined && (values.includes('*') || values.includes(value));

function ruleAllows(rule: Rule, request: Request): boolean {
  if (
    !any(rule.apiGroups, request.group) ||
    !any(rule.resources, request.resource) ||
    !any(rule.verbs, request.verb)
  )
    return false;
  if (rule.resourceNames === undefined || rule.resourceNames.length === 0) return true;
  return request.name !== undefined && rule.resourceNames.includes(request.name);
}

/** Whether ServiceAccount `namespace/name` may make `request` under the RBAC objects in `objects`. */
export function serviceAccountCan(
  objects: readonly K8sObject[],
  account: { namespace: string; name: string },
  request: Request,
): boolean {
  const roles = objects.filter(
    (o) => o.kind === 'Role' || o.kind === 'ClusterRole',
  ) as unknown as Role[];
  const bindings = (
    objects.filter(
      (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
    ) as unknown as Binding[]
  ).filter((binding) =>
    (binding.subjects ?? []).some(
      (s) =>
        s.kind === 'ServiceAccount' && s.name === account.name && s.namespace === account.namespace,
    ),
  );
  return bindings.some((binding) => {
    if (binding.kind === 'RoleBinding' && binding.metadata.namespace !== request.namespace)
      return false;
    const role = roles.find(
      (r) =>
        r.kind === binding.roleRef.kind &&
        r.metadata.name === binding.roleRef.name &&
        (r.kind === 'ClusterRole' || r.metadata.namespace === binding.metadata.namespace),
    );
    return (role?.rules ?? []).some((rule) => ruleAllows(rule, request));
  });
}
