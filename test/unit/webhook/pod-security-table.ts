// The restricted-forbidden fields a user can set, one row each, shared by the unit and the control-plane
// tests of pod security at admission. `from` is the least strict Pod Security level that forbids the value.
type Json = { readonly [key: string]: unknown }

export type PodSecurityKind = "LanguageAgent" | "LanguageTool" | "LanguageClient"

export type PodSecurityLevelName = "restricted" | "baseline" | "privileged" | "unlabelled"

/** Each restricted-forbidden field a user can set; `from` is the least strict level forbidding it. */
export const relaxationTable: ReadonlyArray<{
  readonly kind: PodSecurityKind
  readonly spec: Json
  readonly path: string
  readonly from: "baseline" | "restricted"
}> = [
  {
    kind: "LanguageAgent",
    spec: { securityContext: { runAsUser: 0 } },
    path: "spec.securityContext.runAsUser",
    from: "restricted",
  },
  {
    kind: "LanguageAgent",
    spec: { securityContext: { runAsNonRoot: false } },
    path: "spec.securityContext.runAsNonRoot",
    from: "restricted",
  },
  {
    kind: "LanguageAgent",
    spec: { securityContext: { seccompProfile: { type: "Unconfined" } } },
    path: "spec.securityContext.seccompProfile.type",
    from: "baseline",
  },
  {
    kind: "LanguageAgent",
    spec: { securityContext: { seLinuxOptions: { type: "spc_t" } } },
    path: "spec.securityContext.seLinuxOptions.type",
    from: "baseline",
  },
  {
    kind: "LanguageAgent",
    spec: { securityContext: { windowsOptions: { hostProcess: true } } },
    path: "spec.securityContext.windowsOptions.hostProcess",
    from: "baseline",
  },
  {
    kind: "LanguageAgent",
    spec: { securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } },
    path: "spec.securityContext.sysctls[0].name",
    from: "baseline",
  },
  {
    kind: "LanguageAgent",
    spec: { volumes: [{ name: "host", hostPath: { path: "/var/log" } }] },
    path: "spec.volumes[0].hostPath",
    from: "baseline",
  },
  {
    kind: "LanguageAgent",
    spec: { volumes: [{ name: "share", nfs: { server: "nfs.local", path: "/x" } }] },
    path: "spec.volumes[0].nfs",
    from: "restricted",
  },
  {
    kind: "LanguageTool",
    spec: { securityContext: { runAsUser: 0 } },
    path: "spec.securityContext.runAsUser",
    from: "restricted",
  },
  {
    kind: "LanguageTool",
    spec: { deploymentMode: "sidecar", securityContext: { seccompProfile: { type: "Unconfined" } } },
    path: "spec.securityContext.seccompProfile.type",
    from: "baseline",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { privileged: true } },
    path: "spec.containerSecurityContext.privileged",
    from: "baseline",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { capabilities: { add: ["NET_ADMIN"] } } },
    path: "spec.containerSecurityContext.capabilities.add[0]",
    from: "baseline",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { capabilities: { add: ["CHOWN"] } } },
    path: "spec.containerSecurityContext.capabilities.add[0]",
    from: "restricted",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { capabilities: { drop: ["NET_RAW"] } } },
    path: "spec.containerSecurityContext.capabilities.drop",
    from: "restricted",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { allowPrivilegeEscalation: true } },
    path: "spec.containerSecurityContext.allowPrivilegeEscalation",
    from: "restricted",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { procMount: "Unmasked" } },
    path: "spec.containerSecurityContext.procMount",
    from: "baseline",
  },
  {
    kind: "LanguageClient",
    spec: { containerSecurityContext: { appArmorProfile: { type: "Unconfined" } } },
    path: "spec.containerSecurityContext.appArmorProfile.type",
    from: "baseline",
  },
  {
    kind: "LanguageClient",
    spec: { securityContext: { runAsUser: 0 } },
    path: "spec.securityContext.runAsUser",
    from: "restricted",
  },
]

/** What admission answers for a row in a namespace of `level`: denied where the level forbids the value. */
export const outcomeAt = (
  level: PodSecurityLevelName,
  from: "baseline" | "restricted",
): "denied" | "warned" =>
  level === "restricted" || (level === "baseline" && from === "baseline") ? "denied" : "warned"
