/**
 * Pod security: secure by default, explicit when relaxed.
 *
 * The operator gives every Pod it generates the `restricted` Pod Security Standard for every field
 * the user leaves unset (domain/security.ts). A value the user sets that `restricted`
 * forbids is passed through unchanged, and this module decides its admission from the namespace's
 * own Pod Security Admission level (label `pod-security.kubernetes.io/enforce`):
 * - the level forbids it → denied, naming the field, the value, the level and the control, because
 *   the API server would refuse every Pod of the workload;
 * - the level allows it → admitted with a warning naming the relaxation and the level.
 * No value is ever dropped or replaced.
 *
 * Levels: an unlabelled namespace is `privileged` (Kubernetes' default); a value that is not one of
 * the three levels is treated as `restricted`, as Pod Security Admission does. A cluster-wide
 * default set in the API server's AdmissionConfiguration is invisible here: the API server still
 * enforces it when Pods are created.
 *
 * Which fields (the user-settable ones of each kind): `spec.securityContext` (the Pod's, or for a
 * sidecar tool its container's), `spec.containerSecurityContext` (LanguageClient) and
 * `spec.volumes`. The controls follow the Pod Security Standards: baseline forbids HostProcess,
 * privileged containers, capabilities beyond the baseline set, hostPath volumes, foreign SELinux
 * options, Unconfined seccomp/AppArmor, unmasked /proc and unsafe sysctls; restricted also forbids
 * running as root (runAsNonRoot false, runAsUser 0), privilege escalation, capabilities other than
 * NET_BIND_SERVICE, not dropping ALL, and volume types other than the restricted set.
 */
import { Effect } from "effect"
import { defineRules, type FieldPath, type Finding, finding } from "../domain/rules.ts"
import type { KubeObject } from "../kube/objects.ts"
import { isObject, type Json } from "./kinds/common.ts"
import type { LookupError } from "./lookup.ts"

export type PodSecurityLevel = "privileged" | "baseline" | "restricted"

export const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

export const PodSecurityRules = defineRules("podsecurity", {
  forbidden: {
    severity: "deny",
    text: "a securityContext or volume value that the namespace's Pod Security level (pod-security.kubernetes.io/enforce) forbids is denied: the API server would refuse the Pods",
  },
  relaxed: {
    severity: "warn",
    text: "a value the restricted Pod Security Standard forbids but the namespace's level allows is admitted with a warning and passed to the Pods unchanged",
  },
  sidecarPodOnly: {
    severity: "warn",
    text: "a sidecar tool's pod-only securityContext fields (fsGroup, sysctls, supplementalGroups, …) have no effect: the sidecar runs in the agent's Pod",
  },
  levelUnknown: {
    severity: "warn",
    text: "when the namespace cannot be read, a relaxation is admitted with a warning; the API server's Pod Security admission decides when Pods are created",
  },
})

/** One user value the restricted standard forbids; `from` is the least strict level that forbids it. */
export interface Relaxation {
  readonly path: FieldPath
  /** The value as the user wrote it, e.g. `runAsUser: 0`. */
  readonly value: string
  readonly from: "baseline" | "restricted"
  /** The Pod Security Standards control, e.g. `Privileged Containers`. */
  readonly control: string
}

/** Capabilities `baseline` allows to be added. */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
])

/** Sysctls `baseline` allows (the namespaced, safe set). */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.tcp_wmem",
])

/** SELinux types `baseline` allows. */
const SELINUX_TYPES: ReadonlySet<string> = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
])

/** Volume sources `restricted` allows. */
const RESTRICTED_VOLUMES: ReadonlySet<string> = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
])

const objAt = (obj: Json, key: string): Json | undefined => {
  const value = obj[key]
  return isObject(value) ? value : undefined
}

const arrayAt = (obj: Json, key: string): ReadonlyArray<unknown> => {
  const value = obj[key]
  return Array.isArray(value) ? value : []
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value)

/**
 * The relaxations of one security context (pod or container level; the fields of the other level
 * are simply absent). Pure.
 */
export const contextRelaxations = (context: unknown, path: FieldPath): ReadonlyArray<Relaxation> => {
  if (!isObject(context)) return []
  const out: Array<Relaxation> = []
  const add = (sub: FieldPath, value: string, from: Relaxation["from"], control: string) =>
    out.push({ path: [...path, ...sub], value, from, control })

  if (context.privileged === true)
    add(["privileged"], "privileged: true", "baseline", "Privileged Containers")
  if (objAt(context, "windowsOptions")?.hostProcess === true)
    add(["windowsOptions", "hostProcess"], "hostProcess: true", "baseline", "HostProcess")
  const capabilities = objAt(context, "capabilities")
  if (capabilities !== undefined) {
    for (const [i, cap] of arrayAt(capabilities, "add").entries()) {
      if (typeof cap !== "string") continue
      if (!BASELINE_CAPABILITIES.has(cap))
        add(["capabilities", "add", i], `capabilities.add ${cap}`, "baseline", "Capabilities")
      else if (cap !== "NET_BIND_SERVICE")
        add(["capabilities", "add", i], `capabilities.add ${cap}`, "restricted", "Capabilities")
    }
    const drop = capabilities.drop
    if (Array.isArray(drop) && !drop.includes("ALL"))
      add(
        ["capabilities", "drop"],
        `capabilities.drop ${show(drop)} without ALL`,
        "restricted",
        "Capabilities",
      )
  }
  const seLinux = objAt(context, "seLinuxOptions")
  if (seLinux !== undefined) {
    const type = typeof seLinux.type === "string" ? seLinux.type : ""
    if (!SELINUX_TYPES.has(type))
      add(["seLinuxOptions", "type"], `seLinuxOptions.type ${show(type)}`, "baseline", "SELinux")
    for (const key of ["user", "role"])
      if (typeof seLinux[key] === "string" && seLinux[key] !== "")
        add(["seLinuxOptions", key], `seLinuxOptions.${key} ${show(seLinux[key])}`, "baseline", "SELinux")
  }
  if (objAt(context, "seccompProfile")?.type === "Unconfined")
    add(["seccompProfile", "type"], "seccompProfile.type: Unconfined", "baseline", "Seccomp")
  if (objAt(context, "appArmorProfile")?.type === "Unconfined")
    add(["appArmorProfile", "type"], "appArmorProfile.type: Unconfined", "baseline", "AppArmor")
  if (typeof context.procMount === "string" && context.procMount !== "Default")
    add(["procMount"], `procMount: ${context.procMount}`, "baseline", "/proc Mount Type")
  for (const [i, sysctl] of arrayAt(context, "sysctls").entries()) {
    const name = isObject(sysctl) && typeof sysctl.name === "string" ? sysctl.name : ""
    if (!SAFE_SYSCTLS.has(name)) add(["sysctls", i, "name"], `sysctl ${show(name)}`, "baseline", "Sysctls")
  }
  if (context.allowPrivilegeEscalation === true)
    add(["allowPrivilegeEscalation"], "allowPrivilegeEscalation: true", "restricted", "Privilege Escalation")
  if (context.runAsNonRoot === false)
    add(["runAsNonRoot"], "runAsNonRoot: false", "restricted", "Running as Non-root")
  if (context.runAsUser === 0) add(["runAsUser"], "runAsUser: 0", "restricted", "Running as Non-root user")
  return out
}

/** The relaxations of `spec.volumes`: hostPath (baseline) and any type outside the restricted set. */
export const volumeRelaxations = (volumes: unknown, path: FieldPath): ReadonlyArray<Relaxation> => {
  if (!Array.isArray(volumes)) return []
  return volumes.flatMap((volume, i): ReadonlyArray<Relaxation> => {
    if (!isObject(volume)) return []
    const sources = Object.keys(volume).filter((key) => key !== "name" && volume[key] !== undefined)
    return sources.flatMap((source): ReadonlyArray<Relaxation> => {
      if (source === "hostPath")
        return [
          {
            path: [...path, i, source],
            value: "a hostPath volume",
            from: "baseline",
            control: "HostPath Volumes",
          },
        ]
      if (!RESTRICTED_VOLUMES.has(source))
        return [
          {
            path: [...path, i, source],
            value: `a ${source} volume`,
            from: "restricted",
            control: "Volume Types",
          },
        ]
      return []
    })
  })
}

/** Every relaxation in a kind's spec (the fields are looked for by name; kinds without them have none). */
export const specRelaxations = (spec: Json): ReadonlyArray<Relaxation> => [
  ...contextRelaxations(spec.securityContext, ["spec", "securityContext"]),
  ...contextRelaxations(spec.containerSecurityContext, ["spec", "containerSecurityContext"]),
  ...volumeRelaxations(spec.volumes, ["spec", "volumes"]),
]

/** The namespace's enforced level and how to describe it; absent = privileged, unknown = restricted. */
export const enforcedLevel = (
  namespace: KubeObject | undefined,
): { readonly level: PodSecurityLevel; readonly label: string | undefined } => {
  const label = namespace?.metadata.labels?.[ENFORCE_LABEL]
  if (label === undefined) return { level: "privileged", label }
  if (label === "privileged" || label === "baseline" || label === "restricted") return { level: label, label }
  return { level: "restricted", label }
}

const forbids = (level: PodSecurityLevel, relaxation: Relaxation): boolean =>
  level === "restricted" || (level === "baseline" && relaxation.from === "baseline")

const levelPhrase = (namespace: string, level: PodSecurityLevel, label: string | undefined): string =>
  label === undefined
    ? `namespace "${namespace}" has no ${ENFORCE_LABEL} label (Kubernetes' default: privileged)`
    : label === level
      ? `namespace "${namespace}" enforces "${level}" (${ENFORCE_LABEL})`
      : `namespace "${namespace}" has ${ENFORCE_LABEL}=${show(label)}, which is not a level and counts as "restricted"`

/** Findings for the relaxations under the namespace's level. Pure. */
export const relaxationFindings = (
  relaxations: ReadonlyArray<Relaxation>,
  namespaceName: string,
  namespace: KubeObject | undefined,
): ReadonlyArray<Finding> => {
  const { level, label } = enforcedLevel(namespace)
  const where = levelPhrase(namespaceName, level, label)
  return relaxations.map((r) =>
    forbids(level, r)
      ? finding(
          PodSecurityRules.forbidden,
          r.path,
          `${r.value} is forbidden by the ${r.from === "baseline" ? "baseline" : "restricted"} Pod Security Standard (${r.control}) and ${where}, so the API server would refuse the Pods; remove it or relax the namespace's level`,
        )
      : finding(
          PodSecurityRules.relaxed,
          r.path,
          `${r.value} relaxes the restricted Pod Security Standard (${r.control}); passed to the Pods unchanged because ${where}`,
        ),
  )
}

/**
 * The pod-security findings of a spec in `namespace`: none without relaxations (nothing is looked
 * up); otherwise the namespace is read and {@link relaxationFindings} decides. A failed read warns.
 */
export const podSecurityFindings = <R>(
  spec: Json,
  namespace: string,
  readNamespace: (name: string) => Effect.Effect<KubeObject | undefined, LookupError, R>,
): Effect.Effect<ReadonlyArray<Finding>, never, R> => {
  const relaxations = specRelaxations(spec)
  if (relaxations.length === 0 || namespace === "") return Effect.succeed([])
  return readNamespace(namespace).pipe(
    Effect.map((ns) => relaxationFindings(relaxations, namespace, ns)),
    Effect.catch((error) =>
      Effect.succeed(
        relaxations.map((r) =>
          finding(
            PodSecurityRules.levelUnknown,
            r.path,
            `${r.value} relaxes the restricted Pod Security Standard (${r.control}); namespace "${namespace}" could not be read (${error.message}), so the API server's Pod Security admission decides when the Pods are created`,
          ),
        ),
      ),
    ),
  )
}

/** PodSecurityContext fields that exist only at pod level (a container cannot carry them). */
const POD_ONLY_FIELDS = [
  "fsGroup",
  "fsGroupChangePolicy",
  "seLinuxChangePolicy",
  "supplementalGroups",
  "supplementalGroupsPolicy",
  "sysctls",
] as const

/**
 * A sidecar tool's `securityContext` becomes its container's context in the agent's Pod, so its
 * pod-only fields cannot apply; say so instead of dropping them unseen. Pure.
 */
export const sidecarPodOnlyFindings = (spec: Json): ReadonlyArray<Finding> => {
  const context = spec.securityContext
  if (spec.deploymentMode !== "sidecar" || !isObject(context)) return []
  return POD_ONLY_FIELDS.filter((field) => context[field] !== undefined).map((field) =>
    finding(
      PodSecurityRules.sidecarPodOnly,
      ["spec", "securityContext", field],
      "has no effect on a sidecar tool: the sidecar runs in the agent's Pod, whose pod-level securityContext is the LanguageAgent's; set it there",
    ),
  )
}
