/** Container requests and limits from the inventory, written exactly as the user wrote them. */
import { k8s } from 'cdk8s-plus-33';
import type { Resources } from '../inventory/schema.ts';

export function containerResources(resources: Resources): k8s.ResourceRequirements {
  return {
    requests: {
      cpu: k8s.Quantity.fromString(resources.requests.cpu),
      memory: k8s.Quantity.fromString(resources.requests.memory),
    },
    limits: {
      cpu: k8s.Quantity.fromString(resources.limits.cpu),
      memory: k8s.Quantity.fromString(resources.limits.memory),
    },
  };
}
