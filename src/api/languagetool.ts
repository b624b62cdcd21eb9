/**
 * LanguageTool (namespaced): a tool server (normally MCP over streamable HTTP) that agents call, run either
 * as a shared Deployment + Service (`service` mode) or as a native sidecar injected into every agent Pod
 * that references it (`sidecar` mode). Spec and behaviour: docs/languagetool.md.
 *
 * The three rules the spec marks "schema rule" (PDB: at most one of minAvailable/maxUnavailable; update
 * strategy: rollingUpdate only with RollingUpdate; HPA: minReplicas ≤ maxReplicas) are CEL rules carried by
 * the shared types in shared.ts. Everything else of §Validation (name length per mode, egress rules,
 * reserved names) is enforced by the validating webhook; the descriptions below state it so
 * `kubectl explain` shows it. The only webhook default is `egress[].to.service.namespace`.
 */
import { Schema } from "effect"
import {
  Affinity,
  EnvFromSource,
  EnvVar,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeMount,
} from "./k8s/index.ts"
import {
  Conditions,
  DateTime,
  defineKind,
  described,
  Egress,
  HorizontalPodAutoscalerSpec,
  Int32,
  Int64,
  NonEmptyString,
  optional,
  PodDisruptionBudgetSpec,
  PortNumber,
  StringMap,
  UpdateStrategySpec,
  withDefault,
} from "./shared.ts"

// ---------------------------------------------------------------------------------------------------------
// Enums other code switches on

/** `service`: Deployment + Service `<name>`; `sidecar`: a container `tool-<name>` in each agent Pod. */
export const ToolDeploymentMode = Schema.Literals(["service", "sidecar"])
export type ToolDeploymentMode = typeof ToolDeploymentMode.Type
/** Protocol of the tool: MCP tools go to MCP_SERVERS, OpenAPI tools to OPENAPI_SERVERS (docs/languagetool.md TL-3). */
export const ToolType = Schema.Literals(["mcp", "openapi"])
export type ToolType = typeof ToolType.Type
export const ToolServiceType = Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer"])
export type ToolServiceType = typeof ToolServiceType.Type
export const ToolPhase = Schema.Literals(["Pending", "Running", "Failed", "Unknown", "Updating"])
export type ToolPhase = typeof ToolPhase.Type

// ---------------------------------------------------------------------------------------------------------
// Spec

export const LanguageToolSpec = Schema.Struct({
  clusterRef: optional(
    Schema.String,
    "Name of the LanguageCluster this tool belongs to; the cluster's namespace must be the tool's namespace.",
  ),
  image: described(NonEmptyString, "Container image of the tool server (at least one character)."),
  imagePullPolicy: withDefault(
    described(
      Schema.Literals(["Always", "Never", "IfNotPresent"]),
      "Image pull policy of the tool container. Default IfNotPresent.",
    ),
    "IfNotPresent",
  ),
  imagePullSecrets: optional(
    Schema.Array(LocalObjectReference),
    "Secrets for pulling the image; in sidecar mode they are added to the agent Pod.",
  ),
  type: withDefault(
    described(
      ToolType,
      "Protocol the tool speaks: mcp (agents get it in MCP_SERVERS) or openapi (OPENAPI_SERVERS). Default mcp.",
    ),
    "mcp",
  ),
  deploymentMode: withDefault(
    described(
      ToolDeploymentMode,
      "service: a shared Deployment and Service <name>; sidecar: a container tool-<name> injected into every agent Pod that references the tool (the tool name must then be at most 58 characters, and agents in other namespaces cannot use it). Default service.",
    ),
    "service",
  ),
  port: withDefault(
    described(
      PortNumber,
      "Port the tool listens on, 1-65535; the container gets PORT=<port> unless env sets PORT. Default 8080.",
    ),
    8080,
  ),
  replicas: withDefault(
    described(
      Int32.check(Schema.isGreaterThanOrEqualTo(0)),
      "Pods of the Deployment in service mode, at least 0 (0 scales the tool to zero); ignored when the autoscaler is enabled and in sidecar mode. Default 1.",
    ),
    1,
  ),
  env: optional(
    Schema.Array(EnvVar),
    "Environment variables of the tool container, in order, followed by PORT unless given here.",
  ),
  envFrom: optional(Schema.Array(EnvFromSource), "Environment from ConfigMaps or Secrets."),
  resources: optional(ResourceRequirements, "Compute resources of the tool container."),
  nodeSelector: optional(StringMap, "Node selector of the tool pods (service mode)."),
  affinity: optional(Affinity, "Affinity of the tool pods (service mode)."),
  tolerations: optional(Schema.Array(Toleration), "Tolerations of the tool pods (service mode)."),
  topologySpreadConstraints: optional(
    Schema.Array(TopologySpreadConstraint),
    "Topology spread constraints of the tool pods (service mode).",
  ),
  serviceAccountName: optional(Schema.String, "ServiceAccount of the tool pods (service mode)."),
  securityContext: optional(
    PodSecurityContext,
    "Pod security context in service mode; in sidecar mode runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile, windowsOptions and appArmorProfile become the sidecar container's security context (pod-only fields have no effect there and are warned about). Fields left unset get the restricted Pod Security Standard (runAsNonRoot: true, a RuntimeDefault seccomp profile; not runAsNonRoot when you set runAsUser: 0); a value you set is used unchanged, and one that restricted forbids (e.g. runAsUser: 0 for an image that runs as root) is admitted with a warning where the namespace's pod-security.kubernetes.io/enforce level allows it (no label = privileged) and denied where it does not. An image whose USER is a name rather than a number needs runAsUser set to its numeric uid.",
  ),
  volumeMounts: optional(Schema.Array(VolumeMount), "Volume mounts of the tool container."),
  volumes: optional(
    Schema.Array(Volume),
    "Pod volumes; in sidecar mode they are appended to the agent Pod's volumes and must not clash with its volume names or another sidecar tool's.",
  ),
  livenessProbe: optional(Probe, "Liveness probe of the tool container; none by default."),
  readinessProbe: optional(
    Probe,
    "Readiness probe of the tool container; when absent a TCP probe on port is used.",
  ),
  startupProbe: optional(
    Probe,
    "Startup probe of the tool container; in sidecar mode a TCP probe on port is used when absent.",
  ),
  serviceType: withDefault(
    described(ToolServiceType, "Type of the Service <name> (service mode). Default ClusterIP."),
    "ClusterIP",
  ),
  serviceAnnotations: optional(
    StringMap,
    "Annotations of the Service; removing an entry here removes it from the Service.",
  ),
  podAnnotations: optional(
    StringMap,
    "Annotations of the tool pods; the operator's own annotations win. Keys under langop.io/ are the operator's marks and are denied.",
  ),
  podLabels: optional(
    StringMap,
    "Labels of the tool pods; they cannot override the common labels. Keys under langop.io/ are the operator's and are denied, except langop.io/group (egress group peers).",
  ),
  podDisruptionBudget: optional(
    PodDisruptionBudgetSpec,
    "PodDisruptionBudget <name> in service mode; set at most one of minAvailable and maxUnavailable. Removed when unset.",
  ),
  updateStrategy: optional(
    UpdateStrategySpec,
    "Update strategy of the Deployment in service mode; rollingUpdate is only allowed with type RollingUpdate.",
  ),
  egress: optional(
    Egress,
    "Egress allowed beyond the defaults (same namespace, cluster DNS). In service mode it shapes NetworkPolicy <name>; in sidecar mode the rules are merged into each embedding agent's policy. Each rule needs a destination; DNS names are RFC 1123 names with at most one leading '*.' label, or '*'.",
  ),
  horizontalPodAutoscaler: optional(
    HorizontalPodAutoscalerSpec,
    "Autoscaling of the Deployment in service mode (extension, docs/languagetool.md TL-1); minReplicas must not exceed maxReplicas. While enabled, replicas is left to the autoscaler.",
  ),
}).annotate({ description: "Desired state of the LanguageTool." })
export type LanguageToolSpec = typeof LanguageToolSpec.Type

// ---------------------------------------------------------------------------------------------------------
// Status

const replicaCount = (description: string) =>
  optional(Int32, `${description} of the Deployment (service mode; 0 in sidecar mode).`)

export const LanguageToolStatus = Schema.Struct({
  observedGeneration: optional(Int64, "The metadata.generation the status reflects."),
  phase: optional(
    ToolPhase,
    "Pending, Updating, Running or Failed from the Deployment in service mode; Running in sidecar mode.",
  ),
  conditions: Schema.optionalKey(Conditions),
  endpoint: optional(
    Schema.String,
    "URL agents use: http://<name>.<namespace>.svc.<cluster-domain>:<port> in service mode, http://localhost:<port> in sidecar mode.",
  ),
  availableTools: optional(
    Schema.Array(Schema.String),
    "Tool names discovered from the server (MCP tools/list), sorted; only when discovery is enabled.",
  ),
  readyReplicas: replicaCount("Ready pods"),
  availableReplicas: replicaCount("Available pods"),
  updatedReplicas: replicaCount("Updated pods"),
  unavailableReplicas: replicaCount("Unavailable pods"),
  lastUpdateTime: optional(DateTime, "When another status field last changed."),
  lastTransitionTime: optional(DateTime, "When phase last changed."),
  message: optional(Schema.String, "Message of the Ready condition."),
  reason: optional(Schema.String, "Reason of the Ready condition."),
}).annotate({ description: "Observed state of the LanguageTool." })
export type LanguageToolStatus = typeof LanguageToolStatus.Type

export const LanguageToolKind = defineKind({
  kind: "LanguageTool",
  plural: "languagetools",
  singular: "languagetool",
  listKind: "LanguageToolList",
  shortNames: ["ltool"],
  scope: "Namespaced",
  description:
    "LanguageTool runs a tool server (MCP or OpenAPI) for agents, either as a shared Deployment and Service or as a sidecar container in each agent Pod that references it.",
  printerColumns: [
    { name: "Type", type: "string", jsonPath: ".spec.type" },
    { name: "Image", type: "string", jsonPath: ".spec.image" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Endpoint", type: "string", jsonPath: ".status.endpoint" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: true,
  spec: LanguageToolSpec,
  status: LanguageToolStatus,
})
export const LanguageTool = LanguageToolKind.resource
export type LanguageTool = typeof LanguageTool.Type
