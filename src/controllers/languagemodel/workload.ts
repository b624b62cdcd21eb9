/**
 * The objects a LanguageModel generates besides its NetworkPolicy (docs/languagemodel.md §ConfigMap,
 * §Workload; docs/concepts.md §3, §4, §6.4). PURE.
 *
 * Guarantees:
 * - no secret value in any object: the API key reaches the proxy only through `secretKeyRef` (and, for
 *   bedrock, `envFrom` of the whole Secret; vertex reads a mounted file), never through the ConfigMap;
 * - deterministic: equal input, equal objects (labels/annotations sorted, env in docs/concepts.md §6.4 order);
 * - the pod template's `langop.io/config-hash` changes whenever anything the proxy reads only at start
 *   changes (config.yaml, model.json, the referenced Secrets' resourceVersions), so it rolls out;
 * - the pod meets the `restricted` Pod Security Standard and runs with a read-only root filesystem;
 *   LiteLLM writes only below /tmp (an emptyDir) — its UI directory is left untouched when unwritable.
 * Assumption: the proxy image runs as root by default (the official LiteLLM image does), so a fixed
 * non-root uid is set; the image's files are world-readable.
 */
import type { EnvFromSource, EnvVar, Probe, Volume, VolumeMount } from "../../api/k8s/index.ts"
import type { LanguageModelSpec } from "../../api/languagemodel.ts"
import { canonicalJson, configHash } from "../../domain/hash.ts"
import { ANNOTATION_CONFIG_HASH, commonLabels, sortedRecord } from "../../domain/labels.ts"
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../domain/security.ts"
import type { OwnerRef } from "../common/ownership.ts"
import type { RenderedConfig } from "./litellm.ts"
import { API_KEY_ENV, PROXY_SERVICE_PORT, REDIS_PASSWORD_ENV, SECRETS_MOUNT_PATH } from "./litellm-mapping.ts"

export const KIND = "LanguageModel"
export const CONTAINER_NAME = "proxy"
export const PROXY_PORT = 4000
export const PORT_NAME = "http"
export const CONFIG_MOUNT_PATH = "/etc/langop"
export const CONFIG_FILE = "config.yaml"
/** Non-root uid/gid of the proxy (`nobody`); the official image would otherwise run as root. */
export const PROXY_UID = 65534

export type ProxyMode = "rendered" | "legacy"

export const configMapName = (model: string) => `${model}-model`

export interface ModelIdentity {
  readonly name: string
  readonly namespace: string
  readonly owner: OwnerRef
}

const meta = (id: ModelIdentity, name: string) => ({
  name,
  namespace: id.namespace,
  labels: sortedRecord(commonLabels(KIND, id.name)),
  ownerReferences: [id.owner],
})

// ---------------------------------------------------------------------------------------------------------
// ConfigMap

export interface DesiredConfigMap {
  readonly apiVersion: "v1"
  readonly kind: "ConfigMap"
  readonly metadata: ReturnType<typeof meta>
  readonly data: Readonly<Record<string, string>>
}

/** The keys of docs/languagemodel.md §ConfigMap (each present when its field is set) plus `config.yaml`. */
export const configMapData = (spec: LanguageModelSpec, configYaml: string): Record<string, string> => {
  const data: Record<string, string> = {
    [CONFIG_FILE]: configYaml,
    "model.json": canonicalJson(spec),
    provider: spec.provider,
    modelName: spec.modelName,
  }
  if (spec.endpoint !== undefined && spec.endpoint !== "") data.endpoint = spec.endpoint
  data.timeout = spec.timeout
  if (spec.apiKeySecretRef !== undefined) data["apiKeySecretRef.json"] = canonicalJson(spec.apiKeySecretRef)
  if (spec.rateLimits !== undefined) data["rateLimits.json"] = canonicalJson(spec.rateLimits)
  if (spec.fallbacks !== undefined && spec.fallbacks.length > 0)
    data["fallbacks.json"] = canonicalJson(spec.fallbacks)
  return sortedRecord(data)
}

export const desiredConfigMap = (
  id: ModelIdentity,
  data: Readonly<Record<string, string>>,
): DesiredConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: meta(id, configMapName(id.name)),
  data,
})

// ---------------------------------------------------------------------------------------------------------
// Deployment

export interface WorkloadInput {
  readonly id: ModelIdentity
  readonly spec: LanguageModelSpec
  readonly rendered: RenderedConfig
  readonly configData: Readonly<Record<string, string>>
  /** Operator settings. */
  readonly image: string
  readonly mode: ProxyMode
  /** resourceVersion of the API-key Secret (config hash), when referenced. */
  readonly apiKeySecretVersion: string | undefined
  /** resourceVersion of the shared-Redis password Secret, when the Redis cache uses one. */
  readonly redisSecretVersion: string | undefined
}

export interface DesiredDeployment {
  readonly apiVersion: "apps/v1"
  readonly kind: "Deployment"
  readonly metadata: ReturnType<typeof meta>
  readonly spec: {
    readonly replicas: 1
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> }
    readonly template: {
      readonly metadata: {
        readonly labels: Readonly<Record<string, string>>
        readonly annotations: Readonly<Record<string, string>>
      }
      readonly spec: {
        readonly automountServiceAccountToken: false
        readonly securityContext: Readonly<Record<string, unknown>>
        readonly containers: ReadonlyArray<ProxyContainer>
        readonly volumes: ReadonlyArray<Volume>
      }
    }
  }
}

export interface ProxyContainer {
  readonly name: typeof CONTAINER_NAME
  readonly image: string
  readonly args?: ReadonlyArray<string>
  readonly ports: ReadonlyArray<{
    readonly name: string
    readonly containerPort: number
    readonly protocol: "TCP"
  }>
  readonly env: ReadonlyArray<EnvVar>
  readonly envFrom?: ReadonlyArray<EnvFromSource>
  readonly volumeMounts: ReadonlyArray<VolumeMount>
  readonly livenessProbe: Probe
  readonly readinessProbe: Probe
  readonly securityContext: Readonly<Record<string, unknown>>
}

const probe = (path: string, periodSeconds: number): Probe => ({
  httpGet: { path, port: PROXY_PORT },
  initialDelaySeconds: 30,
  timeoutSeconds: 30,
  periodSeconds,
})

/** `http://` is added when the collector setting has no scheme (as for agents). */
const otlpUrl = (endpoint: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//iu.test(endpoint) ? endpoint : `http://${endpoint}`

/** Container env in docs/concepts.md §6.4 order. */
export const proxyEnv = (input: WorkloadInput): ReadonlyArray<EnvVar> => {
  const { spec, rendered, mode, id } = input
  const ref = spec.apiKeySecretRef
  const env: Array<EnvVar> = []
  if (mode === "rendered" && ref !== undefined && spec.provider !== "bedrock" && spec.provider !== "vertex")
    env.push({ name: API_KEY_ENV, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } })
  if (rendered.logLevel !== undefined) env.push({ name: "LITELLM_LOG", value: rendered.logLevel })
  if (rendered.dropParams) env.push({ name: "LITELLM_DROP_PARAMS", value: "true" })
  if (rendered.redisPassword !== undefined)
    env.push({
      name: REDIS_PASSWORD_ENV,
      valueFrom: {
        secretKeyRef: { name: rendered.redisPassword.secretName, key: rendered.redisPassword.key },
      },
    })
  if (rendered.otlpEndpoint !== undefined)
    env.push(
      { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: otlpUrl(rendered.otlpEndpoint) },
      { name: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "http/protobuf" },
      { name: "OTEL_SERVICE_NAME", value: `language-operator-model-${id.name}` },
    )
  // The proxy's egress policy blocks GitHub, where LiteLLM would otherwise fetch its price map at start
  // (three slow retries); the copy bundled with the pinned version is used instead.
  env.push({ name: "LITELLM_LOCAL_MODEL_COST_MAP", value: "True" })
  return env
}

/** `langop.io/config-hash`: SHA-256 over what the proxy reads only at start. */
export const proxyConfigHash = (input: WorkloadInput): string =>
  configHash({
    "config.yaml": input.configData[CONFIG_FILE] ?? "",
    "model.json": input.configData["model.json"] ?? "",
    apiKeySecretResourceVersion: input.apiKeySecretVersion,
    redisSecretResourceVersion: input.redisSecretVersion,
  })

export const desiredDeployment = (input: WorkloadInput): DesiredDeployment => {
  const { id, spec, rendered } = input
  const labels = sortedRecord(commonLabels(KIND, id.name))
  const ref = spec.apiKeySecretRef
  // bedrock reads the whole Secret as env (docs/languagemodel.md LM-5); its keys need not include `key`, so no item mount.
  const mountSecret = ref !== undefined && spec.provider !== "bedrock"
  const annotations: Record<string, string> = { [ANNOTATION_CONFIG_HASH]: proxyConfigHash(input) }
  if (rendered.metrics) {
    annotations["prometheus.io/scrape"] = "true"
    annotations["prometheus.io/port"] = String(PROXY_PORT)
    annotations["prometheus.io/path"] = "/metrics"
  }
  const volumes: Array<Volume> = [{ name: "config", configMap: { name: configMapName(id.name) } }]
  const mounts: Array<VolumeMount> = [{ name: "config", mountPath: CONFIG_MOUNT_PATH, readOnly: true }]
  if (mountSecret) {
    volumes.push({
      name: "secrets",
      secret: { secretName: ref.name, items: [{ key: ref.key, path: `${ref.name}/${ref.key}` }] },
    })
    mounts.push({ name: "secrets", mountPath: SECRETS_MOUNT_PATH, readOnly: true })
  }
  volumes.push({ name: "tmp", emptyDir: {} })
  mounts.push({ name: "tmp", mountPath: "/tmp" })
  const container: ProxyContainer = {
    name: CONTAINER_NAME,
    image: input.image,
    ...(input.mode === "rendered"
      ? { args: ["--config", `${CONFIG_MOUNT_PATH}/${CONFIG_FILE}`, "--port", String(PROXY_PORT)] }
      : {}),
    ports: [{ name: PORT_NAME, containerPort: PROXY_PORT, protocol: "TCP" }],
    env: proxyEnv(input),
    ...(ref !== undefined && spec.provider === "bedrock"
      ? { envFrom: [{ secretRef: { name: ref.name } }] }
      : {}),
    volumeMounts: mounts,
    livenessProbe: probe("/health/liveliness", 30),
    readinessProbe: probe("/health/readiness", 10),
    securityContext: { ...restrictedContainerSecurityContext(), readOnlyRootFilesystem: true },
  }
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(id, id.name),
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: sortedRecord(annotations) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurityContext({ runAsUser: PROXY_UID, runAsGroup: PROXY_UID }),
          containers: [container],
          volumes,
        },
      },
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Service

export interface DesiredService {
  readonly apiVersion: "v1"
  readonly kind: "Service"
  readonly metadata: ReturnType<typeof meta>
  readonly spec: {
    readonly type: "ClusterIP"
    readonly selector: Readonly<Record<string, string>>
    readonly ports: ReadonlyArray<{
      readonly name: string
      readonly port: number
      readonly targetPort: number
      readonly protocol: "TCP"
    }>
  }
}

export const desiredService = (id: ModelIdentity): DesiredService => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: meta(id, id.name),
  spec: {
    type: "ClusterIP",
    selector: sortedRecord(commonLabels(KIND, id.name)),
    ports: [{ name: PORT_NAME, port: PROXY_SERVICE_PORT, targetPort: PROXY_PORT, protocol: "TCP" }],
  },
})
