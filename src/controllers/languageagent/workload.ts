/**
 * The agent's pod template and workload: Deployment `<agent>` for `autonomous`, `interactive` and
 * `event-driven`, CronJob `<agent>` for `scheduled` (docs/languageagent.md §Workload, §Workspace, §Sidecars;
 * docs/concepts.md §4, §6.1, docs/concepts.md X-10). PURE.
 *
 * Guarantees:
 * - Every pass-through field of the spec is honoured (pull policy and secrets, envFrom, resources, node
 *   selector, affinity, tolerations, service account, security context, volumes and mounts, pod labels
 *   and annotations, restart policy and backoff limit for Jobs).
 * - The Pod gets the `restricted` Pod Security Standard (runAsNonRoot, RuntimeDefault seccomp, no
 *   privilege escalation, all capabilities dropped) for every field the user's security context
 *   leaves unset; the user's own values pass through unchanged (admission checked them).
 * - Selectors use only the four common labels; user pod labels never override ours; our annotations
 *   (config hash, sidecar marks) win over user pod annotations.
 * - No sidecar container is written: the template only carries the sidecar marks (docs/admission.md).
 * - Output is deterministic: equal inputs give equal objects (maps sorted, no time, no randomness), so an
 *   unchanged agent never rolls.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import { parseDuration } from "../../api/shared.ts"
import { configHash } from "../../domain/hash.ts"
import {
  ANNOTATION_CONFIG_HASH,
  commonLabels,
  objectLabels,
  podTemplateAnnotations,
  podTemplateLabels,
  sortedRecord,
} from "../../domain/labels.ts"
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../domain/security.ts"
import { type SidecarTool, sidecarAnnotations } from "../../domain/sidecars.ts"
import { controllerRef, type OwnerRef } from "../common/ownership.ts"
import type { KnowledgeMount } from "./dependencies.ts"
import { servesHttp } from "./dependencies.ts"
import {
  AGENT_CONTAINER,
  AGENT_HTTP_PORT,
  AGENT_HTTP_PORT_NAME,
  CONFIG_DIR,
  CONFIG_VOLUME,
  configMapName,
  DEFAULT_SCHEDULE,
  DEFAULT_TIMEOUT_SECONDS,
  WORKSPACE_VOLUME,
  workloadName,
  workspaceClaimName,
} from "./names.ts"
import { workspaceEnabled } from "./validate.ts"

type Obj = Readonly<Record<string, unknown>>

export type ObjectMetadata = {
  readonly name: string
  readonly namespace: string
  readonly labels: Readonly<Record<string, string>>
  readonly ownerReferences: ReadonlyArray<OwnerRef>
}

export type PodTemplate = {
  readonly metadata: {
    readonly labels: Readonly<Record<string, string>>
    readonly annotations: Readonly<Record<string, string>>
  }
  readonly spec: Obj & {
    readonly containers: ReadonlyArray<Obj>
    readonly volumes: ReadonlyArray<Obj>
    readonly restartPolicy: string
  }
}

export type DesiredDeployment = {
  readonly apiVersion: "apps/v1"
  readonly kind: "Deployment"
  readonly metadata: ObjectMetadata
  readonly spec: {
    readonly replicas: number
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> }
    readonly strategy: { readonly type: "Recreate" | "RollingUpdate" }
    readonly template: PodTemplate
  }
}

export type DesiredCronJob = {
  readonly apiVersion: "batch/v1"
  readonly kind: "CronJob"
  readonly metadata: ObjectMetadata
  readonly spec: {
    readonly schedule: string
    readonly concurrencyPolicy: "Forbid"
    readonly suspend: boolean
    readonly jobTemplate: {
      readonly metadata: { readonly labels: Readonly<Record<string, string>> }
      readonly spec: {
        readonly backoffLimit: number
        readonly activeDeadlineSeconds: number
        readonly template: PodTemplate
      }
    }
  }
}

export interface PodInput {
  readonly agent: LanguageAgent
  /** The `agent` container's env (docs/concepts.md §6.1, env.ts). */
  readonly env: ReadonlyArray<Obj>
  readonly sidecars: ReadonlyArray<SidecarTool>
  readonly knowledge: ReadonlyArray<KnowledgeMount>
  /** `langop.io/cluster` label value when the agent is a cluster member. */
  readonly clusterLabel: string | undefined
  /** ConfigMap data, env and Secret versions the pod reads only at start (→ `langop.io/config-hash`). */
  readonly configData: Readonly<Record<string, string>>
  readonly secretVersions: Readonly<Record<string, string>>
  /** Versions of the ConfigMaps the container's env reads; rotating one must roll the pods too. */
  readonly configMapVersions?: Readonly<Record<string, string>> | undefined
  /** Pod service account: `spec.serviceAccountName`, or `<agent>` when the operator creates it. */
  readonly serviceAccountName: string | undefined
  /** Operator setting "default workspace fsGroup" (docs/languageagent.md AG-7). */
  readonly defaultFsGroup: number | undefined
}

const opt = <K extends string, V>(key: K, value: V | undefined): { readonly [P in K]?: V } =>
  (value === undefined ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0)
    ? {}
    : { [key]: value }) as { readonly [P in K]?: V }

/** Metadata of every generated object: name, namespace, labels (+ cluster label), controller reference. */
export const childMetadata = (
  agent: LanguageAgent,
  name: string,
  clusterLabel: string | undefined,
): ObjectMetadata => ({
  name,
  namespace: agent.metadata.namespace ?? "",
  labels: sortedRecord(objectLabels("LanguageAgent", agent.metadata.name ?? "", clusterLabel)),
  ownerReferences: [controllerRef(agent)],
})

/** `ceil(seconds(spec.timeout))`, at least 1; 600 when the timeout cannot be parsed. */
export const activeDeadlineSeconds = (timeout: string): number => {
  const ms = parseDuration(timeout)
  return ms === undefined ? DEFAULT_TIMEOUT_SECONDS : Math.max(1, Math.ceil(ms / 1000))
}

/** Jobs reject `Always`: it becomes `OnFailure` (docs/languageagent.md AG-13). */
export const jobRestartPolicy = (agent: LanguageAgent): "OnFailure" | "Never" =>
  agent.spec.restartPolicy === "Never" ? "Never" : "OnFailure"

/** A ReadWriteOnce workspace is mounted: a rolling update would need the volume on two pods. */
export const deploymentStrategy = (agent: LanguageAgent): "Recreate" | "RollingUpdate" =>
  workspaceEnabled(agent) && agent.spec.workspace?.accessMode === "ReadWriteOnce"
    ? "Recreate"
    : "RollingUpdate"

const podSecurityContext = (agent: LanguageAgent, defaultFsGroup: number | undefined) => {
  const user = agent.spec.securityContext
  const fsGroup = user === undefined && workspaceEnabled(agent) ? defaultFsGroup : undefined
  return sortedRecord(restrictedPodSecurityContext(fsGroup === undefined ? user : { fsGroup }))
}

const volumesOf = (input: PodInput): ReadonlyArray<Obj> => {
  const { agent } = input
  const name = agent.metadata.name ?? ""
  return [
    ...(workspaceEnabled(agent)
      ? [{ name: WORKSPACE_VOLUME, persistentVolumeClaim: { claimName: workspaceClaimName(name) } }]
      : []),
    { name: CONFIG_VOLUME, configMap: { name: configMapName(name) } },
    ...input.knowledge.map((k) => ({
      name: k.volume,
      secret: { secretName: k.secretName, items: [{ key: k.key, path: k.key }] },
    })),
    ...(agent.spec.volumes ?? []),
  ]
}

const mountsOf = (input: PodInput): ReadonlyArray<Obj> => {
  const { agent } = input
  return [
    ...(workspaceEnabled(agent)
      ? [{ name: WORKSPACE_VOLUME, mountPath: agent.spec.workspace?.mountPath ?? "/workspace" }]
      : []),
    { name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true },
    ...input.knowledge.map((k) => ({ name: k.volume, mountPath: k.mountPath, readOnly: true })),
    ...(agent.spec.volumeMounts ?? []),
  ]
}

/**
 * `langop.io/config-hash`: ConfigMap data, env and the versions of the Secrets and ConfigMaps the env
 * reads (docs/concepts.md §4). ConfigMap versions enter only when there are some, so agents whose env reads no
 * ConfigMap keep the hash they had before ConfigMaps were counted (no rollout on upgrade).
 */
export const podConfigHash = (
  input: Pick<PodInput, "configData" | "env" | "secretVersions" | "configMapVersions">,
): string =>
  configHash({
    configMap: input.configData,
    env: input.env,
    secrets: input.secretVersions,
    ...(Object.keys(input.configMapVersions ?? {}).length > 0 ? { configMaps: input.configMapVersions } : {}),
  })

export const agentContainer = (input: PodInput): Obj => {
  const spec = input.agent.spec
  return {
    name: AGENT_CONTAINER,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    ...opt("env", input.env),
    ...opt("envFrom", spec.envFrom),
    ...opt("resources", spec.resources),
    volumeMounts: mountsOf(input),
    ...(servesHttp(input.agent)
      ? { ports: [{ name: AGENT_HTTP_PORT_NAME, containerPort: AGENT_HTTP_PORT, protocol: "TCP" }] }
      : {}),
    securityContext: restrictedContainerSecurityContext(),
  }
}

export const podTemplate = (input: PodInput, restartPolicy: string): PodTemplate => {
  const { agent } = input
  const spec = agent.spec
  const annotations = podTemplateAnnotations(spec.podAnnotations, {
    [ANNOTATION_CONFIG_HASH]: podConfigHash(input),
    ...sidecarAnnotations(input.sidecars),
  })
  return {
    metadata: {
      labels: podTemplateLabels(
        "LanguageAgent",
        agent.metadata.name ?? "",
        input.clusterLabel,
        spec.podLabels,
      ),
      annotations,
    },
    spec: {
      containers: [agentContainer(input)],
      volumes: volumesOf(input),
      restartPolicy,
      ...opt("imagePullSecrets", spec.imagePullSecrets),
      ...opt("nodeSelector", spec.nodeSelector === undefined ? undefined : sortedRecord(spec.nodeSelector)),
      ...opt("affinity", spec.affinity),
      ...opt("tolerations", spec.tolerations),
      ...opt("serviceAccountName", input.serviceAccountName),
      securityContext: podSecurityContext(agent, input.defaultFsGroup),
    },
  }
}

export const desiredDeployment = (input: PodInput): DesiredDeployment => {
  const { agent } = input
  const name = agent.metadata.name ?? ""
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMetadata(agent, workloadName(name), input.clusterLabel),
    spec: {
      replicas: agent.spec.replicas,
      selector: { matchLabels: sortedRecord(commonLabels("LanguageAgent", name)) },
      strategy: { type: deploymentStrategy(agent) },
      template: podTemplate(input, "Always"),
    },
  }
}

/** The schedule the CronJob uses: `spec.schedule`, or hourly when empty (noted in the Ready message). */
export const effectiveSchedule = (agent: LanguageAgent): string => {
  const schedule = agent.spec.schedule?.trim() ?? ""
  return schedule === "" ? DEFAULT_SCHEDULE : schedule
}

export const desiredCronJob = (input: PodInput): DesiredCronJob => {
  const { agent } = input
  const name = agent.metadata.name ?? ""
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: childMetadata(agent, workloadName(name), input.clusterLabel),
    spec: {
      schedule: effectiveSchedule(agent),
      concurrencyPolicy: "Forbid",
      suspend: agent.spec.replicas === 0,
      jobTemplate: {
        metadata: { labels: sortedRecord(objectLabels("LanguageAgent", name, input.clusterLabel)) },
        spec: {
          backoffLimit: agent.spec.backoffLimit,
          activeDeadlineSeconds: activeDeadlineSeconds(agent.spec.timeout),
          template: podTemplate(input, jobRestartPolicy(agent)),
        },
      },
    },
  }
}
