/**
 * Security contexts of generated Pods: secure by default, explicit when relaxed.
 *
 * Every field the user leaves unset gets the `restricted` Pod Security Standard's value (pod level:
 * `runAsNonRoot: true`, a RuntimeDefault seccomp profile; container level: no privilege escalation,
 * all capabilities dropped). Every field the user sets is passed through unchanged, also where
 * `restricted` forbids it: admission already decided that the namespace's own Pod Security level
 * allows it (webhook/pod-security.ts), and a value replaced behind the user's back would make the
 * Pod behave unlike its spec.
 *
 * A default never contradicts a user's value: `runAsNonRoot` is not defaulted when the user runs
 * as uid 0 (pod or container level), and `allowPrivilegeEscalation: false` is not defaulted for a
 * privileged container or one that adds CAP_SYS_ADMIN (the API server rejects both combinations,
 * and the kubelet refuses to start uid 0 with runAsNonRoot).
 *
 * The run-as fields are set at pod level only, so containers inherit the user's pod-level choice
 * instead of a container-level default overriding it.
 */

interface PodContextShape {
  readonly runAsNonRoot?: boolean | undefined
  readonly runAsUser?: number | undefined
  readonly seccompProfile?: unknown
}

interface ContainerContextShape {
  readonly runAsUser?: number | undefined
  readonly privileged?: boolean | undefined
  readonly allowPrivilegeEscalation?: boolean | undefined
  readonly capabilities?:
    | { readonly add?: ReadonlyArray<string> | undefined; readonly drop?: ReadonlyArray<string> | undefined }
    | undefined
}

/**
 * Pod-level context: `runAsNonRoot: true` and a RuntimeDefault seccomp profile where the user left
 * them unset, then the user's own fields unchanged. `containers` are the user's container-level
 * contexts of the same Pod (their `runAsUser: 0` also keeps `runAsNonRoot` from being defaulted).
 */
export const restrictedPodSecurityContext = <T extends PodContextShape>(
  user: T | undefined,
  containers: ReadonlyArray<ContainerContextShape | undefined> = [],
) => {
  const root = user?.runAsUser === 0 || containers.some((c) => c?.runAsUser === 0)
  return {
    ...(user?.runAsNonRoot === undefined && !root ? { runAsNonRoot: true } : {}),
    ...(user?.seccompProfile === undefined ? { seccompProfile: { type: "RuntimeDefault" } } : {}),
    ...user,
  }
}

const needsEscalation = (user: ContainerContextShape | undefined): boolean =>
  user?.privileged === true ||
  (user?.capabilities?.add ?? []).some((cap) => cap === "SYS_ADMIN" || cap === "CAP_SYS_ADMIN")

/**
 * Container-level context: `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]` where
 * the user left them unset, then the user's own fields (their `capabilities.add` kept beside the
 * default drop). Containers inherit the run-as fields from the pod.
 */
export const restrictedContainerSecurityContext = <T extends ContainerContextShape>(user?: T | undefined) => {
  const capabilities = user?.capabilities
  return {
    ...(user?.allowPrivilegeEscalation === undefined && !needsEscalation(user)
      ? { allowPrivilegeEscalation: false }
      : {}),
    ...user,
    capabilities: { ...capabilities, drop: capabilities?.drop ?? ["ALL"] },
  }
}
