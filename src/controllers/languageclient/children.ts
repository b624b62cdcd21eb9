/**
 * The objects a LanguageClient generates (docs/languageclient.md §Pod, §Service, §Ingress, §PDB/HPA/
 * ServiceMonitor, §Regions; docs/concepts.md §3–§6.5). PURE builders.
 *
 * A *unit* is one Deployment with its Service (and optional Ingress and HPA): the default unit `<name>`
 * without enabled regions, one unit `<name>-<region>` per enabled region otherwise (plus the shared
 * Service `<name>` and top-level Ingress, which select/point at all pods).
 *
 * Guarantees: deterministic (no timestamps; maps sorted); selectors use only the four common labels plus
 * the region label on regional objects (never `langop.io/cluster`); `replicas` is omitted while the HPA is
 * enabled; pods get the `restricted` Pod Security Standard for every security field the user leaves
 * unset and the user's own values unchanged (admission checked them against the namespace's level);
 * every pass-through field is honoured (docs/concepts.md X-10); the pod template's config hash covers everything a
 * pod reads only at start (env, the ConfigMap data, the versions of the Secrets it mounts and of the
 * Secrets/ConfigMaps its env reads).
 */
import type { ClientRegion, IngressSpec, LanguageClient } from "../../api/languageclient.ts"
import { configHash } from "../../domain/hash.ts"
import {
  ANNOTATION_CONFIG_HASH,
  commonLabels,
  LABEL_REGION,
  objectLabels,
  podTemplateAnnotations,
  podTemplateLabels,
  sortedRecord,
} from "../../domain/labels.ts"
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../domain/security.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { type EnvSourceVersion, hashEntries } from "../common/env-sources.ts"
import { controllerRef } from "../common/ownership.ts"
import {
  type ChildMeta,
  deploymentStrategy,
  type HpaPlan,
  hpaObject,
  pdbObject,
  present,
} from "../common/workload.ts"
import type { ResolvedModel } from "../languageagent/dependencies.ts"
import { clientEnv, type EnvInput, operatorMounts } from "./config.ts"
import { enabledRegions, issuedTlsSecret, tlsSecretName } from "./dependencies.ts"
import {
  CLUSTER_ISSUER_ANNOTATION,
  CONTAINER,
  configMapName,
  ISSUER_ANNOTATION,
  KIND,
  PORT_NAME,
  REGION_TOPOLOGY_LABEL,
  regionalName,
} from "./names.ts"

export interface Unit {
  /** Deployment/Service/Ingress/HPA name. */
  readonly name: string
  readonly region: ClientRegion | undefined
}

/** The client's workload units (§Regions). */
export const unitsOf = (client: LanguageClient): ReadonlyArray<Unit> => {
  const name = client.metadata.name ?? ""
  const regions = enabledRegions(client)
  return regions.length === 0
    ? [{ name, region: undefined }]
    : regions.map((region) => ({ name: regionalName(name, region.name), region }))
}

/** Everything the pod template depends on besides the spec. */
export interface PodInputs extends Omit<EnvInput, "client" | "models"> {
  readonly models: ReadonlyArray<ResolvedModel>
  readonly regionModels: Readonly<Record<string, ReadonlyArray<ResolvedModel>>>
  /** ConfigMap data (hashed: the pod reads it at start). */
  readonly configData: Readonly<Record<string, string>>
  /** resourceVersions of the mounted Secrets, by name (hashed). */
  readonly secretVersions: Readonly<Record<string, string | undefined>>
  /** ConfigMaps and Secrets the user's `env`/`envFrom` read, with their versions (hashed). */
  readonly envSources: ReadonlyArray<EnvSourceVersion>
}

export const meta = (
  client: LanguageClient,
  name: string,
  cluster: string | undefined,
  region?: string,
): ChildMeta => ({
  name,
  namespace: client.metadata.namespace ?? "",
  labels: sortedRecord({
    ...objectLabels(KIND, client.metadata.name ?? "", cluster),
    ...(region !== undefined ? { [LABEL_REGION]: region } : {}),
  }),
  ownerReferences: [controllerRef({ kind: KIND, metadata: client.metadata })],
})

const selectorOf = (client: LanguageClient, region: string | undefined) =>
  sortedRecord({
    ...commonLabels(KIND, client.metadata.name ?? ""),
    ...(region !== undefined ? { [LABEL_REGION]: region } : {}),
  })

export const desiredConfigMap = (
  client: LanguageClient,
  cluster: string | undefined,
  data: Readonly<Record<string, string>>,
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: meta(client, configMapName(client.metadata.name ?? ""), cluster),
  data,
})

const hpaEnabled = (client: LanguageClient) => client.spec.horizontalPodAutoscaler?.enabled === true

/** The user's container context, with the restricted defaults for the fields they leave unset. */
const containerSecurityContext = (client: LanguageClient) =>
  restrictedContainerSecurityContext(client.spec.containerSecurityContext)

export const desiredDeployment = (
  client: LanguageClient,
  unit: Unit,
  cluster: string | undefined,
  inputs: PodInputs,
): KubeObject => {
  const { spec } = client
  const region = unit.region
  const models = region !== undefined ? (inputs.regionModels[region.name] ?? inputs.models) : inputs.models
  const env = clientEnv({ ...inputs, client, models })
  const mounts = operatorMounts(client, configMapName(client.metadata.name ?? ""))
  const nodeSelector =
    region === undefined
      ? spec.nodeSelector
      : (region.nodeSelector ??
        (region.affinity === undefined
          ? sortedRecord({ ...spec.nodeSelector, [REGION_TOPOLOGY_LABEL]: region.name })
          : spec.nodeSelector))
  const affinity = region?.affinity ?? spec.affinity
  const monitoring = spec.monitoring
  const prometheus =
    monitoring?.enabled === true && monitoring.prometheus
      ? {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(spec.port),
          "prometheus.io/path": monitoring.metricsPath,
        }
      : {}
  const hash = configHash({
    env,
    envFrom: spec.envFrom ?? [],
    config: inputs.configData,
    secrets: sortedRecord(inputs.secretVersions),
    // Absent when the env reads nothing, so clients without such references keep their hash.
    envSources: inputs.envSources.length > 0 ? hashEntries(inputs.envSources) : undefined,
  })
  const container = present({
    name: CONTAINER,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    ports: [{ name: PORT_NAME, containerPort: spec.port, protocol: "TCP" }],
    env,
    envFrom: spec.envFrom,
    resources: spec.resources,
    volumeMounts: [...mounts.volumeMounts, ...(spec.volumeMounts ?? [])],
    livenessProbe: spec.livenessProbe,
    readinessProbe: spec.readinessProbe,
    startupProbe: spec.startupProbe,
    securityContext: containerSecurityContext(client),
  })
  const podSpec = present({
    imagePullSecrets: spec.imagePullSecrets,
    nodeSelector,
    affinity,
    tolerations: spec.tolerations,
    topologySpreadConstraints: spec.topologySpreadConstraints,
    serviceAccountName: spec.serviceAccountName,
    securityContext: restrictedPodSecurityContext(spec.securityContext, [spec.containerSecurityContext]),
    volumes: [...mounts.volumes, ...(spec.volumes ?? [])],
    containers: [container],
  })
  const name = client.metadata.name ?? ""
  const regionLabel = region !== undefined ? { [LABEL_REGION]: region.name } : {}
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(client, unit.name, cluster, region?.name),
    spec: present({
      replicas: hpaEnabled(client) ? undefined : (region?.replicas ?? spec.replicas),
      selector: { matchLabels: selectorOf(client, region?.name) },
      strategy: deploymentStrategy(spec.updateStrategy),
      template: {
        metadata: {
          labels: sortedRecord({ ...podTemplateLabels(KIND, name, cluster, spec.podLabels), ...regionLabel }),
          annotations: podTemplateAnnotations(spec.podAnnotations, {
            ...prometheus,
            [ANNOTATION_CONFIG_HASH]: hash,
          }),
        },
        spec: podSpec,
      },
    }),
  }
}

/** More than one client pod can serve requests (replicas > 1, an HPA, or several regions). */
export const severalReplicas = (client: LanguageClient): boolean => {
  const units = unitsOf(client)
  return (
    hpaEnabled(client) ||
    units.length > 1 ||
    units.some((u) => (u.region?.replicas ?? client.spec.replicas) > 1)
  )
}

/** Memory sessions live in one pod: route a client back to it (§Service). */
export const stickySessions = (client: LanguageClient): boolean =>
  (client.spec.sessionConfig?.backend ?? "memory") === "memory" && severalReplicas(client)

/** Service `<name>` (all pods) or `<name>-<region>` (that region's pods). */
export const desiredService = (
  client: LanguageClient,
  name: string,
  region: string | undefined,
  cluster: string | undefined,
): KubeObject => {
  const annotations = client.spec.serviceAnnotations
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      ...meta(client, name, cluster, region),
      ...(annotations !== undefined && Object.keys(annotations).length > 0
        ? { annotations: sortedRecord(annotations) }
        : {}),
    },
    spec: {
      type: client.spec.serviceType,
      selector: selectorOf(client, region),
      ports: [{ name: PORT_NAME, port: client.spec.port, targetPort: client.spec.port, protocol: "TCP" }],
      ...(stickySessions(client) ? { sessionAffinity: "ClientIP" } : {}),
    },
  }
}

/** Whether a namespaced cert-manager Issuer named like the configured issuer exists (docs/languageclient.md CL-5). */
export type IssuerKind = "Issuer" | "ClusterIssuer"

/** The issuer to annotate with, or undefined without cert-manager. */
export const issuerName = (client: LanguageClient, defaultIssuer: string | undefined): string | undefined => {
  const tls = client.spec.tls
  if (tls?.enabled !== true || !tls.certManager) return undefined
  const name =
    tls.certManagerIssuer !== undefined && tls.certManagerIssuer !== ""
      ? tls.certManagerIssuer
      : defaultIssuer
  return name !== undefined && name !== "" ? name : undefined
}

/** §Ingress for `ingress` (top-level or a region's) routing to Service `backend`. */
export const desiredIngress = (
  client: LanguageClient,
  ingress: IngressSpec,
  name: string,
  backend: string,
  region: string | undefined,
  cluster: string | undefined,
  issuer: { readonly name: string; readonly kind: IssuerKind } | undefined,
): KubeObject => {
  const annotations = sortedRecord({
    ...ingress.annotations,
    ...(issuer !== undefined
      ? { [issuer.kind === "Issuer" ? ISSUER_ANNOTATION : CLUSTER_ISSUER_ANNOTATION]: issuer.name }
      : {}),
  })
  const path = {
    path: ingress.path,
    pathType: ingress.pathType,
    backend: { service: { name: backend, port: { name: PORT_NAME } } },
  }
  const hosts = ingress.hosts ?? []
  const rules =
    hosts.length === 0
      ? [{ http: { paths: [path] } }]
      : hosts.map((host) => ({ host, http: { paths: [path] } }))
  const tls = [...(ingress.tls ?? [])]
  const secret = tlsSecretName(client)
  if (secret !== undefined && !tls.some((t) => t.secretName === secret))
    tls.push({ ...(hosts.length > 0 ? { hosts } : {}), secretName: secret })
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...meta(client, name, cluster, region),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: present({
      ingressClassName: ingress.className,
      rules,
      tls: tls.length > 0 ? tls : undefined,
    }),
  }
}

export const desiredPdb = (client: LanguageClient, cluster: string | undefined): KubeObject | undefined => {
  const name = client.metadata.name ?? ""
  return pdbObject(meta(client, name, cluster), commonLabels(KIND, name), client.spec.podDisruptionBudget)
}

/** One HPA per unit (targets that unit's Deployment). */
export const desiredHpa = (client: LanguageClient, unit: Unit, cluster: string | undefined): HpaPlan =>
  hpaObject(
    meta(client, unit.name, cluster, unit.region?.name),
    unit.name,
    client.spec.horizontalPodAutoscaler,
  )

/** ServiceMonitor `<name>` (monitoring.coreos.com/v1) when monitoring asks for one. */
export const desiredServiceMonitor = (
  client: LanguageClient,
  cluster: string | undefined,
): KubeObject | undefined => {
  const m = client.spec.monitoring
  if (m === undefined || !m.enabled || !m.serviceMonitor) return undefined
  const name = client.metadata.name ?? ""
  const base = meta(client, name, cluster)
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { ...base, labels: sortedRecord({ ...m.additionalLabels, ...base.labels }) },
    spec: {
      selector: { matchLabels: commonLabels(KIND, name) },
      endpoints: [{ port: PORT_NAME, path: m.metricsPath }],
    },
  }
}

/**
 * cert-manager Certificate `<name>` for pods that terminate TLS themselves (TLS from cert-manager and no
 * Ingress: nothing else would issue `<name>-tls`). It names every in-cluster DNS name of the client's
 * Services, the addresses such a client is reached at.
 */
export const desiredCertificate = (
  client: LanguageClient,
  cluster: string | undefined,
  issuer: { readonly name: string; readonly kind: IssuerKind },
  clusterDomain: string,
): KubeObject | undefined => {
  const secretName = issuedTlsSecret(client)
  if (secretName === undefined) return undefined
  const name = client.metadata.name ?? ""
  const namespace = client.metadata.namespace ?? ""
  const units = unitsOf(client)
  const services = units.some((u) => u.region !== undefined) ? [name, ...units.map((u) => u.name)] : [name]
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: meta(client, name, cluster),
    spec: {
      secretName,
      issuerRef: { group: "cert-manager.io", kind: issuer.kind, name: issuer.name },
      dnsNames: services.flatMap((svc) => [
        `${svc}.${namespace}.svc`,
        `${svc}.${namespace}.svc.${clusterDomain}`,
      ]),
    },
  }
}
