/**
 * A Role (or ClusterRole) with exactly the given rules, bound to one ServiceAccount under the same
 * name. Written as explicit rules (cdk8s L1 objects) rather than cdk8s-plus `allow()` calls: for a
 * least-privilege review the rule list itself is the thing to read, and the tests assert it exactly.
 */
import { JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { PlainKubeRole, PlainKubeRoleBinding } from './plain-api-object.ts';

export interface Rule {
  /** `''` is the core API group. */
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** Restricts the rule to these objects (get/update/patch/delete; list/watch only with a metadata.name field selector). */
  readonly resourceNames?: readonly string[];
}

export interface RoleProps {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly rules: readonly Rule[];
  /** The bound ServiceAccount, in `namespace`. */
  readonly serviceAccount: string;
  readonly namespace: string;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function policyRules(rules: readonly Rule[]): k8s.PolicyRule[] {
  return rules.map((rule) => ({
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
    ...(rule.resourceNames !== undefined && { resourceNames: [...rule.resourceNames] }),
  }));
}

function subjects(props: RoleProps): k8s.Subject[] {
  return [{ kind: 'ServiceAccount', name: props.serviceAccount, namespace: props.namespace }];
}

/** Role + RoleBinding in the chart's namespace. */
export class NamespacedRole extends Construct {
  constructor(scope: Construct, id: string, props: RoleProps) {
    super(scope, id);
    const metadata = { name: props.name, labels: { ...props.labels } };
    new PlainKubeRole(this, 'Role', { metadata, rules: policyRules(props.rules) });
    new PlainKubeRoleBinding(this, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: props.name },
      subjects: subjects(props),
    });
  }
}

/** ClusterRole + ClusterRoleBinding (for reads across every namespace). */
export class ClusterWideRole extends Construct {
  constructor(scope: Construct, id: string, props: RoleProps) {
    super(scope, id);
    const metadata = { name: props.name, labels: { ...props.labels } };
    const role = new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata,
      rules: policyRules(props.rules),
    });
    const binding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata,
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: props.name },
      subjects: subjects(props),
    });
    // Cluster-scoped: the chart's default namespace must not be stamped on them.
    for (const object of [role, binding])
      object.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
