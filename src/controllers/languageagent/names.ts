/**
 * Names, paths, ports and condition reasons of the LanguageAgent controller (docs/languageagent.md, docs/concepts.md §3).
 * Constants only: every module of the controller (and its tests) takes names from here, so a generated
 * object's name is defined in exactly one place.
 */

/** ConfigMap `<agent>-agent` (docs/concepts.md §3). */
export const configMapName = (agent: string): string => `${agent}-agent`
/** PVC `<agent>-workspace`. */
export const workspaceClaimName = (agent: string): string => `${agent}-workspace`
/** Role and RoleBinding `<agent>-events` (kubernetes-event triggers). */
export const eventsRbacName = (agent: string): string => `${agent}-events`
/** Deployment, CronJob, Service, ServiceAccount and NetworkPolicy share the agent's own name. */
export const workloadName = (agent: string): string => agent

export const AGENT_CONTAINER = "agent"
export const WORKSPACE_VOLUME = "workspace"
export const CONFIG_VOLUME = "agent-config"
export const CONFIG_DIR = "/etc/langop/agent"
export const KNOWLEDGE_DIR = "/etc/langop/knowledge"
export const knowledgeVolumeName = (index: number): string => `knowledge-${index}`
export const KNOWLEDGE_VOLUME_PATTERN = /^knowledge-[0-9]+$/u

/** The agent's HTTP port for interactive clients and webhook triggers (docs/languageagent.md AG-16). */
export const AGENT_HTTP_PORT = 8080
export const AGENT_HTTP_PORT_NAME = "http"
/** Service port of interactive / webhook agents (→ targetPort 8080). */
export const AGENT_SERVICE_PORT = 80
/** The model proxy's Service port (the container listens on 4000). */
export const MODEL_SERVICE_PORT = 8000

export const DEFAULT_SCHEDULE = "0 * * * *"
export const DEFAULT_TIMEOUT_SECONDS = 600
export const DUMMY_OPENAI_API_KEY = "sk-dummy-key-for-local-proxy"
export const OTEL_SERVICE_PREFIX = "language-operator-agent-"

/** docs/concepts.md §3: `app.kubernetes.io/name` and Service names; a scheduled agent's CronJob name. */
export const MAX_NAME_LENGTH = 63
export const MAX_CRONJOB_NAME_LENGTH = 52

export const Reasons = {
  // Ready / Reconciled
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  InvalidSpec: "InvalidSpec",
  InvalidName: "InvalidName",
  ReservedVolumeName: "ReservedVolumeName",
  NameConflict: "NameConflict",
  ClusterNotFound: "ClusterNotFound",
  ClusterNotReady: "ClusterNotReady",
  ClusterNamespaceMismatch: "ClusterNamespaceMismatch",
  ModelNotFound: "ModelNotFound",
  ToolNotFound: "ToolNotFound",
  PersonaNotFound: "PersonaNotFound",
  PersonaNotReady: "PersonaNotReady",
  PersonaInvalid: "PersonaInvalid",
  CrossNamespaceSidecarUnsupported: "CrossNamespaceSidecarUnsupported",
  CrossNamespaceSecretUnsupported: "CrossNamespaceSecretUnsupported",
  SidecarPortConflict: "SidecarPortConflict",
  SidecarVolumeConflict: "SidecarVolumeConflict",
  MemoryStoreSecretMissing: "MemoryStoreSecretMissing",
  ConfigMapError: "ConfigMapError",
  PVCError: "PVCError",
  ServiceError: "ServiceError",
  RBACError: "RBACError",
  NetworkPolicyError: "NetworkPolicyError",
  DeploymentError: "DeploymentError",
  CronJobError: "CronJobError",
  WorkloadNotAvailable: "WorkloadNotAvailable",
  // DependenciesResolved / PersonaResolved
  Resolved: "Resolved",
  NoPersona: "NoPersona",
  // WorkspaceReady
  Bound: "Bound",
  Pending: "Pending",
  Disabled: "Disabled",
  WorkspaceImmutable: "WorkspaceImmutable",
  WorkspaceResizeFailed: "WorkspaceResizeFailed",
  // WorkloadAvailable
  Available: "Available",
  Scheduled: "Scheduled",
  Suspended: "Suspended",
  Progressing: "Progressing",
  PodsFailing: "PodsFailing",
  // NetworkPolicyReady
  Applied: "Applied",
} as const
export type Reason = (typeof Reasons)[keyof typeof Reasons]

export const ConditionTypes = {
  Ready: "Ready",
  Reconciled: "Reconciled",
  DependenciesResolved: "DependenciesResolved",
  PersonaResolved: "PersonaResolved",
  WorkspaceReady: "WorkspaceReady",
  WorkloadAvailable: "WorkloadAvailable",
  NetworkPolicyReady: "NetworkPolicyReady",
  EgressResolved: "EgressResolved",
} as const

export const READY_MESSAGE = "LanguageAgent is ready"
