/**
 * The kubelet's waiting reasons of a container whose image cannot be pulled (kubelet
 * `pkg/kubelet/images/types.go`: ErrImagePull, ImagePullBackOff, InvalidImageName,
 * ErrImageNeverPull). Read by the exporter (classifying its own pod) and by the collector
 * (job pods whose exporter never started), both as `image_pull_failed`.
 *
 * Shared with the runtime programs: keep it dependency-free.
 */
export const IMAGE_PULL_REASONS = [
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
] as const;
export type ImagePullReason = (typeof IMAGE_PULL_REASONS)[number];

/** True for a container waiting reason that means its image cannot be pulled. */
export function isImagePullReason(reason: string | undefined): reason is ImagePullReason {
  return (IMAGE_PULL_REASONS as readonly (string | undefined)[]).includes(reason);
}
