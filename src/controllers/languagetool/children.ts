/**
 * The objects a LanguageTool generates (docs/languagetool.md §Service mode, docs/concepts.md §3–§6.3). PURE builders:
 * tool + a few gathered facts → complete desired objects, ready for server-side apply.
 *
 * Guarantees:
 * - Deterministic: no timestamps, no randomness, label/annotation maps sorted; the config hash depends only
 *   on the container env and the resourceVersions of the ConfigMaps/Secrets the env reads.
 * - Selectors use only the four common labels (never `langop.io/cluster`), so changing `clusterRef` never
 *   touches an immutable Deployment selector.
 * - Every pass-through field of the spec is honoured (docs/concepts.md X-10); the pod gets the `restricted` Pod
 *   Security Standard for every security field the user leaves unset, their own values unchanged.
 * - `replicas` is omitted while the HPA is enabled, so the operator and the autoscaler never fight.
 */
import type { EnvVar } from "../../api/k8s/index.ts"
import type { LanguageTool } from "../../api/languagetool.ts"
import { canonicalJson, configHash } from "../../domain/hash.ts"
import {
  ANNOTATION_CONFIG_HASH,
  commonLabels,
  objectLabels,
  podTemplateAnnotations,
  podTemplateLabels,
  sortedRecord,
} from "../../domain/labels.ts"
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../domain/security.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { type EnvSourceVersion, hashEntries } from "../common/env-sources.ts"
import { controllerRef } from "../common/ownership.ts"
import { deploymentStrategy, type HpaPlan, hpaObject, pdbObject, present } from "../common/workload.ts"

export { type EnvSourceVersion, envReferences } from "../common/env-sources.ts"

export const KIND = "LanguageTool"
export const CONTAINER_NAME = "tool"
export const PORT_NAME = "http"

export const configMapName = (tool: string): string => `${tool}-tool`

/** The URL agents use: the Service in service mode, localhost in sidecar mode (status.endpoint). */
export const endpointOf = (tool: LanguageTool, clusterDomain: string): string =>
  tool.spec.deploymentMode === "sidecar"
    ? `http://localhost:${tool.spec.port}`
    : `http://${tool.metadata.name ?? ""}.${tool.metadata.namespace ?? ""}.svc.${clusterDomain}:${tool.spec.port}`

/** docs/concepts.md §6.3: the user's env verbatim, then `PORT=<port>` unless the user defines PORT (docs/languagetool.md TL-2). */
export const containerEnv = (tool: LanguageTool): ReadonlyArray<EnvVar> => {
  const user = tool.spec.env ?? []
  return user.some((e) => e.name === "PORT")
    ? user
    : [...user, { name: "PORT", value: String(tool.spec.port) }]
}

/** `langop.io/config-hash`: env + the versions of what it reads at start (a change rolls the pods). */
export const toolConfigHash = (tool: LanguageTool, sources: ReadonlyArray<EnvSourceVersion>): string =>
  configHash({
    env: containerEnv(tool),
    envFrom: tool.spec.envFrom ?? [],
    sources: hashEntries(sources),
  })

/** Service-mode default: a TCP readiness probe on the port so Services route only to listening pods. */
export const defaultReadinessProbe = (port: number) => ({
  tcpSocket: { port },
  periodSeconds: 5,
  timeoutSeconds: 1,
  failureThreshold: 3,
})

const meta = (tool: LanguageTool, name: string, cluster: string | undefined) => ({
  name,
  namespace: tool.metadata.namespace ?? "",
  labels: sortedRecord(objectLabels(KIND, tool.metadata.name ?? "", cluster)),
  ownerReferences: [controllerRef({ kind: KIND, metadata: tool.metadata })],
})

/** ConfigMap `<name>-tool`: `tool.json` (the spec, keys sorted), `name`, `namespace`, `type`. */
export const desiredConfigMap = (tool: LanguageTool, cluster: string | undefined): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: meta(tool, configMapName(tool.metadata.name ?? ""), cluster),
  data: {
    "tool.json": canonicalJson(tool.spec),
    name: tool.metadata.name ?? "",
    namespace: tool.metadata.namespace ?? "",
    type: tool.spec.type,
  },
})

export const desiredDeployment = (
  tool: LanguageTool,
  cluster: string | undefined,
  sources: ReadonlyArray<EnvSourceVersion>,
): KubeObject => {
  const { spec } = tool
  const name = tool.metadata.name ?? ""
  const hpaEnabled = spec.horizontalPodAutoscaler?.enabled === true
  const strategy = deploymentStrategy(spec.updateStrategy)
  const container = present({
    name: CONTAINER_NAME,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    ports: [{ name: PORT_NAME, containerPort: spec.port, protocol: "TCP" }],
    env: containerEnv(tool),
    envFrom: spec.envFrom,
    resources: spec.resources,
    volumeMounts: spec.volumeMounts,
    livenessProbe: spec.livenessProbe,
    readinessProbe: spec.readinessProbe ?? defaultReadinessProbe(spec.port),
    startupProbe: spec.startupProbe,
    securityContext: restrictedContainerSecurityContext(),
  })
  const podSpec = present({
    imagePullSecrets: spec.imagePullSecrets,
    nodeSelector: spec.nodeSelector,
    affinity: spec.affinity,
    tolerations: spec.tolerations,
    topologySpreadConstraints: spec.topologySpreadConstraints,
    serviceAccountName: spec.serviceAccountName,
    securityContext: restrictedPodSecurityContext(spec.securityContext),
    volumes: spec.volumes,
    containers: [container],
  })
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(tool, name, cluster),
    spec: present({
      replicas: hpaEnabled ? undefined : spec.replicas,
      selector: { matchLabels: commonLabels(KIND, name) },
      strategy,
      template: {
        metadata: {
          labels: podTemplateLabels(KIND, name, cluster, spec.podLabels),
          annotations: podTemplateAnnotations(spec.podAnnotations, {
            [ANNOTATION_CONFIG_HASH]: toolConfigHash(tool, sources),
          }),
        },
        spec: podSpec,
      },
    }),
  }
}

export const desiredService = (tool: LanguageTool, cluster: string | undefined): KubeObject => {
  const name = tool.metadata.name ?? ""
  const annotations = tool.spec.serviceAnnotations
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      ...meta(tool, name, cluster),
      ...(annotations !== undefined && Object.keys(annotations).length > 0
        ? { annotations: sortedRecord(annotations) }
        : {}),
    },
    spec: {
      type: tool.spec.serviceType,
      selector: commonLabels(KIND, name),
      ports: [{ name: PORT_NAME, port: tool.spec.port, targetPort: tool.spec.port, protocol: "TCP" }],
    },
  }
}

/** `policy/v1` PodDisruptionBudget; undefined when `spec.podDisruptionBudget` is unset. */
export const desiredPdb = (tool: LanguageTool, cluster: string | undefined): KubeObject | undefined => {
  const name = tool.metadata.name ?? ""
  return pdbObject(meta(tool, name, cluster), commonLabels(KIND, name), tool.spec.podDisruptionBudget)
}

export type { HpaPlan } from "../common/workload.ts"

/** `autoscaling/v2` HorizontalPodAutoscaler (docs/languagetool.md TL-1); undefined object when the HPA is not enabled. */
export const desiredHpa = (tool: LanguageTool, cluster: string | undefined): HpaPlan => {
  const name = tool.metadata.name ?? ""
  return hpaObject(meta(tool, name, cluster), name, tool.spec.horizontalPodAutoscaler)
}

/** The egress policy built by src/network, owned by the tool (cluster label on metadata only). */
export const ownedNetworkPolicy = (
  tool: LanguageTool,
  cluster: string | undefined,
  policy: {
    readonly metadata: { readonly labels: Readonly<Record<string, string>> }
    readonly spec: unknown
  },
): KubeObject => {
  const name = tool.metadata.name ?? ""
  const base = meta(tool, name, cluster)
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { ...base, labels: sortedRecord({ ...policy.metadata.labels, ...base.labels }) },
    spec: policy.spec,
  }
}
