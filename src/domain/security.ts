/**
 * Security defaults that make every generated Pod meet the `restricted` Pod Security Standard.
 *
 * User settings are honoured where they stay within the standard; the fields the standard requires
 * are always set, so a pod template we generate can run in a namespace enforcing `restricted`.
 */

/** Pod-level context: the user's PodSecurityContext with `runAsNonRoot` and a RuntimeDefault seccomp profile. */
export const restrictedPodSecurityContext = <T extends object>(user: T | undefined) => ({
  ...user,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
})

/** Container-level context required by `restricted`; containers inherit the rest from the pod. */
export const restrictedContainerSecurityContext = () => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
})
