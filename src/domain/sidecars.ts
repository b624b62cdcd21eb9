/**
 * Sidecar tools (LanguageTools with `deploymentMode: sidecar`): the pod-template marks the agent
 * controller writes and the native sidecar container the Pod webhook injects (docs/admission.md
 * §Sidecar injection, docs/languageagent.md §Sidecars, docs/concepts.md §6.2).
 *
 * Pure and shared by both sides, so the controller's marks and the webhook's reading of them cannot
 * drift apart:
 * - `langop.io/sidecar-tools` = `<namespace>/<tool>` joined by `,` (no spaces), in the given order
 *   ({@link sidecarToolsValue}); {@link parseSidecarTools} reads it back.
 * - `langop.io/sidecar-hash` = hex SHA-256 of the compact JSON array, same order, of
 *   `{name, namespace, spec}` where `spec` keeps only {@link SIDECAR_SHAPING_FIELDS}, every object's
 *   keys sorted recursively and absent fields left out ({@link sidecarHash}, {@link sidecarHashInput}).
 * - {@link sidecarAnnotations} gives both, or nothing when there is no sidecar tool.
 * - {@link sidecarContainer} builds `tool-<tool>` from the tool's spec alone (plus the workspace
 *   mount path), so equal inputs always give equal containers (the webhook's idempotency rests on it).
 * Assumption: callers pass the resolved, distinct sidecar tools in `toolRefs` order; the
 * functions neither reorder nor deduplicate.
 */
import type {
  EnvFromSource,
  EnvVar,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  Volume,
  VolumeMount,
} from "../api/k8s/index.ts"
import type { LanguageTool, LanguageToolSpec } from "../api/languagetool.ts"
import { canonicalJson, configHash } from "./hash.ts"
import { ANNOTATION_SIDECAR_HASH, ANNOTATION_SIDECAR_TOOLS } from "./labels.ts"
import { isDns1123Label, isDns1123Subdomain } from "./names.ts"
import { restrictedContainerSecurityContext } from "./security.ts"

/** The tool spec fields that shape the injected container and the Pod (docs/admission.md); nothing else is hashed. */
export const SIDECAR_SHAPING_FIELDS = [
  "image",
  "imagePullPolicy",
  "port",
  "env",
  "envFrom",
  "resources",
  "volumeMounts",
  "volumes",
  "imagePullSecrets",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "securityContext",
] as const satisfies ReadonlyArray<keyof LanguageToolSpec>

export type SidecarShapingField = (typeof SIDECAR_SHAPING_FIELDS)[number]

/** The part of a LanguageTool spec a sidecar is built from (a full `LanguageToolSpec` fits). */
export type SidecarSpec = Pick<LanguageToolSpec, "image" | "port"> &
  Partial<Pick<LanguageToolSpec, Exclude<SidecarShapingField, "image" | "port">>>

/** A sidecar tool as the marks and the builder see it. */
export interface SidecarTool {
  readonly name: string
  readonly namespace: string
  readonly spec: SidecarSpec
}

/** A `<namespace>/<tool>` entry of `langop.io/sidecar-tools`. */
export interface SidecarRef {
  readonly namespace: string
  readonly name: string
}

/** Container name prefix; `tool-<tool>` must stay within the 63-character container name limit. */
export const SIDECAR_CONTAINER_PREFIX = "tool-"
export const MAX_CONTAINER_NAME_LENGTH = 63
export const SIDECAR_PORT_NAME = "mcp"
/** The Pod volume (agent PVC) every sidecar also mounts, where the `agent` container mounts it. */
export const WORKSPACE_VOLUME = "workspace"
export const AGENT_CONTAINER = "agent"
/** Used when the Pod has a workspace volume but no `agent` container mounts it (agent spec default). */
export const DEFAULT_WORKSPACE_MOUNT_PATH = "/workspace"

export const sidecarContainerName = (tool: string): string => `${SIDECAR_CONTAINER_PREFIX}${tool}`

/** `<namespace>/<name>`. */
export const sidecarRefString = (ref: SidecarRef): string => `${ref.namespace}/${ref.name}`

/** The SidecarTool view of a LanguageTool object (its name and namespace from `metadata`). */
export const sidecarToolOf = (tool: LanguageTool): SidecarTool => ({
  name: tool.metadata.name ?? "",
  namespace: tool.metadata.namespace ?? "",
  spec: tool.spec,
})

// ---------------------------------------------------------------------------------------------
// The pod-template marks

/** The `langop.io/sidecar-tools` value: `<namespace>/<tool>` joined by `,`, in the given order. */
export const sidecarToolsValue = (tools: ReadonlyArray<SidecarRef>): string =>
  tools.map(sidecarRefString).join(",")

/** Only the shaping fields of a spec, absent ones left out. */
export const shapingSpec = (spec: SidecarSpec): Partial<Pick<LanguageToolSpec, SidecarShapingField>> => {
  const out: Record<string, unknown> = {}
  for (const field of SIDECAR_SHAPING_FIELDS) {
    const value = spec[field]
    if (value !== undefined) out[field] = value
  }
  return out
}

const hashEntries = (tools: ReadonlyArray<SidecarTool>) =>
  tools.map((t) => ({ name: t.name, namespace: t.namespace, spec: shapingSpec(t.spec) }))

/** The exact text that is hashed: compact JSON, keys sorted recursively (useful in tests and logs). */
export const sidecarHashInput = (tools: ReadonlyArray<SidecarTool>): string =>
  canonicalJson(hashEntries(tools))

/** The `langop.io/sidecar-hash` value: hex SHA-256 of {@link sidecarHashInput}. */
export const sidecarHash = (tools: ReadonlyArray<SidecarTool>): string => configHash(hashEntries(tools))

/**
 * Both marks for an agent pod template, or `{}` when the agent has no sidecar tool (docs/admission.md:
 * both annotations are then omitted). Merge them over the user's `podAnnotations`.
 */
export const sidecarAnnotations = (tools: ReadonlyArray<SidecarTool>): Record<string, string> =>
  tools.length === 0
    ? {}
    : { [ANNOTATION_SIDECAR_TOOLS]: sidecarToolsValue(tools), [ANNOTATION_SIDECAR_HASH]: sidecarHash(tools) }

// ---------------------------------------------------------------------------------------------
// Reading the marks

export interface ParsedSidecarTools {
  /** Well-formed entries in order, duplicates dropped (the first one kept). */
  readonly refs: ReadonlyArray<SidecarRef>
  /** One message per malformed entry, e.g. `entry "x" is not <namespace>/<tool>`. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Reads a `langop.io/sidecar-tools` (or `langop.io/injected-tools`) value. Absent, empty or
 * blank means no tools; blanks around entries and empty entries are tolerated; an entry that is not
 * `<namespace>/<tool>` with a namespace label and a tool name of DNS-1123 form is a problem.
 */
export const parseSidecarTools = (value: string | undefined): ParsedSidecarTools => {
  const refs: Array<SidecarRef> = []
  const problems: Array<string> = []
  const seen = new Set<string>()
  for (const raw of (value ?? "").split(",")) {
    const entry = raw.trim()
    if (entry === "") continue
    const parts = entry.split("/")
    const [namespace, name] = parts
    if (
      parts.length !== 2 ||
      namespace === undefined ||
      name === undefined ||
      !isDns1123Label(namespace) ||
      !isDns1123Subdomain(name)
    ) {
      problems.push(`entry ${JSON.stringify(entry)} is not <namespace>/<tool>`)
      continue
    }
    if (seen.has(entry)) continue
    seen.add(entry)
    refs.push({ namespace, name })
  }
  return { refs, problems }
}

// ---------------------------------------------------------------------------------------------
// The container

type SeccompProfile = NonNullable<PodSecurityContext["seccompProfile"]>
type SELinuxOptions = NonNullable<PodSecurityContext["seLinuxOptions"]>
type WindowsSecurityContextOptions = NonNullable<PodSecurityContext["windowsOptions"]>
type AppArmorProfile = NonNullable<PodSecurityContext["appArmorProfile"]>

/** Container-level fields of the Kubernetes SecurityContext the sidecar gets (a subset of core/v1). */
export interface SidecarSecurityContext {
  readonly allowPrivilegeEscalation: false
  readonly capabilities: { readonly drop: ReadonlyArray<string> }
  readonly runAsNonRoot?: boolean
  readonly seccompProfile: SeccompProfile
  readonly runAsUser?: number
  readonly runAsGroup?: number
  readonly seLinuxOptions?: SELinuxOptions
  readonly windowsOptions?: WindowsSecurityContextOptions
  readonly appArmorProfile?: AppArmorProfile
}

export interface SidecarPort {
  readonly name: typeof SIDECAR_PORT_NAME
  readonly containerPort: number
  readonly protocol: "TCP"
}

/** A native sidecar: a core/v1 Container with `restartPolicy: Always`, placed in `initContainers`. */
export interface SidecarContainer {
  readonly name: string
  readonly image: string
  readonly imagePullPolicy?: string
  readonly restartPolicy: "Always"
  readonly ports: ReadonlyArray<SidecarPort>
  readonly env: ReadonlyArray<EnvVar>
  readonly envFrom?: ReadonlyArray<EnvFromSource>
  readonly resources?: ResourceRequirements
  readonly volumeMounts?: ReadonlyArray<VolumeMount>
  readonly livenessProbe?: Probe
  readonly readinessProbe: Probe
  readonly startupProbe: Probe
  readonly securityContext: SidecarSecurityContext
}

/** TCP startup probe used when the tool has none: up to 60 s for the server to listen. */
export const defaultStartupProbe = (port: number): Probe => ({
  tcpSocket: { port },
  periodSeconds: 2,
  failureThreshold: 30,
})

/** TCP readiness probe used when the tool has none (docs/languageagent.md §Sidecars). */
export const defaultReadinessProbe = (port: number): Probe => ({
  tcpSocket: { port },
  initialDelaySeconds: 2,
  periodSeconds: 2,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
})

/**
 * The sidecar's container security context. The sidecar runs in the agent's Pod, whose pod-level
 * context belongs to the agent, so the tool's choices are set on the container: the tool's
 * container-level fields (`runAsUser`, `runAsGroup`, `runAsNonRoot`, `seLinuxOptions`,
 * `seccompProfile`, `windowsOptions`, `appArmorProfile`) unchanged, also where the `restricted`
 * standard forbids them (admission decided from the namespace's Pod Security level), and the
 * restricted defaults for the rest: no privilege escalation, all capabilities dropped, a
 * RuntimeDefault seccomp profile, and `runAsNonRoot: true` unless the tool runs as uid 0.
 */
export const sidecarSecurityContext = (tool: PodSecurityContext | undefined): SidecarSecurityContext => {
  const base = restrictedContainerSecurityContext()
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: [...base.capabilities.drop] },
    ...(tool?.runAsNonRoot !== undefined
      ? { runAsNonRoot: tool.runAsNonRoot }
      : tool?.runAsUser === 0
        ? {}
        : { runAsNonRoot: true }),
    seccompProfile: tool?.seccompProfile ?? { type: "RuntimeDefault" },
    ...(tool?.runAsUser === undefined ? {} : { runAsUser: tool.runAsUser }),
    ...(tool?.runAsGroup === undefined ? {} : { runAsGroup: tool.runAsGroup }),
    ...(tool?.seLinuxOptions === undefined ? {} : { seLinuxOptions: tool.seLinuxOptions }),
    ...(tool?.windowsOptions === undefined ? {} : { windowsOptions: tool.windowsOptions }),
    ...(tool?.appArmorProfile === undefined ? {} : { appArmorProfile: tool.appArmorProfile }),
  }
}

/** The tool's env, then `PORT=<port>` unless the tool sets `PORT` itself (docs/concepts.md §6.2, docs/languagetool.md TL-2). */
export const sidecarEnv = (spec: SidecarSpec): ReadonlyArray<EnvVar> => {
  const env = spec.env ?? []
  return env.some((e) => e.name === "PORT") ? [...env] : [...env, { name: "PORT", value: String(spec.port) }]
}

/**
 * The native sidecar `tool-<tool>` (docs/languageagent.md §Sidecars). `workspaceMountPath` is where the
 * Pod's `agent` container mounts volume `workspace`, or `undefined` when the Pod has no workspace;
 * the workspace mount comes first, then the tool's own mounts.
 */
export const sidecarContainer = (
  tool: SidecarTool,
  workspaceMountPath: string | undefined,
): SidecarContainer => {
  const spec = tool.spec
  const mounts: Array<VolumeMount> = [
    ...(workspaceMountPath === undefined ? [] : [{ name: WORKSPACE_VOLUME, mountPath: workspaceMountPath }]),
    ...(spec.volumeMounts ?? []),
  ]
  return {
    name: sidecarContainerName(tool.name),
    image: spec.image,
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    restartPolicy: "Always",
    ports: [{ name: SIDECAR_PORT_NAME, containerPort: spec.port, protocol: "TCP" }],
    env: sidecarEnv(spec),
    ...(spec.envFrom === undefined ? {} : { envFrom: spec.envFrom }),
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
    ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
    ...(spec.livenessProbe === undefined ? {} : { livenessProbe: spec.livenessProbe }),
    readinessProbe: spec.readinessProbe ?? defaultReadinessProbe(spec.port),
    startupProbe: spec.startupProbe ?? defaultStartupProbe(spec.port),
    securityContext: sidecarSecurityContext(spec.securityContext),
  }
}

/** The tool's Pod volumes (appended to the agent Pod's). */
export const sidecarVolumes = (tool: SidecarTool): ReadonlyArray<Volume> => tool.spec.volumes ?? []

/** The tool's image pull secrets (unioned by name into the agent Pod's). */
export const sidecarPullSecrets = (tool: SidecarTool): ReadonlyArray<LocalObjectReference> =>
  tool.spec.imagePullSecrets ?? []
