/**
 * LanguageClient (namespaced): a user-facing front end (web UI, API, chat integration) for models, tools,
 * personas and agents, with optional Ingress/TLS, authentication, sessions, moderation, autoscaling and
 * several regions. Spec and behaviour: docs/languageclient.md.
 *
 * Only the rules the spec marks "schema rule" are CRD CEL rules (PDB, update strategy, HPA bounds; they
 * live on the shared types). Every other static rule of §Validation (TLS source, cookie sameSite, session
 * backend address, provider names, RBAC default role, CORS credentials, filter names, region names,
 * reserved volume names) is enforced by the validating webhook; the descriptions below state them so
 * `kubectl explain` shows them. `contentModeration.customFilters[].action` deliberately has no default: it
 * follows `contentModeration.action` (docs/languageclient.md CL-13).
 */
import { Schema } from "effect"
import {
  Affinity,
  EnvFromSource,
  EnvVar,
  IngressTLS,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  ResourceRequirements,
  SecurityContext,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeMount,
} from "./k8s/index.ts"
import {
  Conditions,
  DateTime,
  Duration,
  defineKind,
  described,
  flag,
  HorizontalPodAutoscalerSpec,
  Int32,
  Int64,
  ModelReference,
  NonEmptyString,
  optional,
  PersonaReference,
  PodDisruptionBudgetSpec,
  PortNumber,
  SecretReference,
  StringMap,
  strings,
  ToolReference,
  UpdateStrategySpec,
  withDefault,
} from "./shared.ts"

// ---------------------------------------------------------------------------------------------------------
// Enums other code switches on

export const ClientType = Schema.Literals(["web", "api", "cli", "widget", "slack", "discord", "teams"])
export type ClientType = typeof ClientType.Type
export const SessionBackend = Schema.Literals(["memory", "redis", "postgres", "dynamodb"])
export type SessionBackend = typeof SessionBackend.Type
export const AuthProviderType = Schema.Literals(["oauth2", "oidc", "saml", "ldap", "basic", "api-key"])
export type AuthProviderType = typeof AuthProviderType.Type
export const ModerationAction = Schema.Literals(["block", "warn", "log"])
export type ModerationAction = typeof ModerationAction.Type
export const ClientServiceType = Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer"])
export type ClientServiceType = typeof ClientServiceType.Type
export const ClientPhase = Schema.Literals(["Pending", "Running", "Failed", "Unknown", "Updating"])
export type ClientPhase = typeof ClientPhase.Type

// ---------------------------------------------------------------------------------------------------------
// References

export const AgentReference = Schema.Struct({
  name: described(Schema.String, "Name of the LanguageAgent."),
  namespace: optional(
    Schema.String,
    "Namespace of the LanguageAgent; the admission webhook sets it to the client's namespace when empty.",
  ),
  enabled: flag(true, "Whether users can invoke this agent through the client."),
  displayName: optional(Schema.String, "Label shown for the agent in the UI."),
  description: optional(Schema.String, "Text shown for the agent in the UI."),
  icon: optional(Schema.String, "Icon shown for the agent in the UI."),
}).annotate({
  description:
    "Reference to a LanguageAgent the client can invoke. Only agents with a Service (interactive, or event-driven with a webhook trigger) are reachable.",
})
export type AgentReference = typeof AgentReference.Type

// ---------------------------------------------------------------------------------------------------------
// Sessions

export const SessionConfig = Schema.Struct({
  backend: withDefault(
    described(
      SessionBackend,
      "Where sessions are stored. redis, postgres and dynamodb need backendConfig.endpoint or backendConfig.secretRef. The memory backend keeps sessions per pod, so with more than one replica the Service uses ClientIP affinity. Default memory.",
    ),
    "memory",
  ),
  backendConfig: optional(
    Schema.Struct({
      endpoint: optional(Schema.String, "Address of the session backend."),
      secretRef: optional(
        SecretReference,
        "Secret with the backend credentials, mounted at /etc/langop/secrets/session/. Must be in the client's namespace.",
      ),
      database: optional(Schema.String, "SQL database name (postgres)."),
      keyPrefix: optional(Schema.String, "Prefix of the keys the client writes."),
    }),
    "Connection settings of the session backend. The operator does not provision the backend.",
  ),
  ttl: withDefault(
    described(
      Duration,
      "Session lifetime: one integer and one unit (ns, us, µs, ms, s, m, h), e.g. 24h; 1h30m is invalid. Default 24h.",
    ),
    "24h",
  ),
  maxMessagesPerSession: withDefault(
    described(Int32, "Most messages kept in a session's history. Default 100."),
    100,
  ),
  enablePersistence: flag(
    false,
    "Keep conversations after the session TTL (has no effect with the memory backend).",
  ),
  cookieConfig: optional(
    Schema.Struct({
      name: withDefault(described(Schema.String, "Cookie name. Default session_id."), "session_id"),
      secure: flag(true, "Send the cookie over HTTPS only; required when sameSite is None."),
      httpOnly: flag(true, "Hide the cookie from JavaScript."),
      sameSite: withDefault(
        described(
          Schema.Literals(["Strict", "Lax", "None"]),
          "SameSite attribute of the cookie; None requires secure: true. Default Lax.",
        ),
        "Lax",
      ),
      domain: optional(Schema.String, "Domain attribute of the cookie."),
      path: withDefault(described(Schema.String, "Path attribute of the cookie. Default /."), "/"),
    }),
    "Session cookie attributes.",
  ),
}).annotate({ description: "Session management, delivered to the application in client.json." })
export type SessionConfig = typeof SessionConfig.Type

// ---------------------------------------------------------------------------------------------------------
// Authentication

export const AuthProvider = Schema.Struct({
  name: described(
    Schema.String,
    "Provider name: unique within the client and a DNS-1123 label (it names the mount /etc/langop/secrets/auth/<name>/).",
  ),
  type: described(AuthProviderType, "Kind of identity provider."),
  config: optional(StringMap, "Provider settings (non-secret), passed to the application in auth.json."),
  secretRef: optional(
    SecretReference,
    "Secret with the provider credentials; only the referenced key is mounted. Must be in the client's namespace.",
  ),
  enabled: flag(true, "Whether the provider is offered."),
}).annotate({ description: "One identity provider." })
export type AuthProvider = typeof AuthProvider.Type

export const RbacRole = Schema.Struct({
  name: described(Schema.String, "Role name."),
  permissions: strings("Permissions granted by the role (interpreted by the application)."),
  modelAccess: strings("Names of the LanguageModels the role may use."),
  toolAccess: strings("Names of the LanguageTools the role may use."),
  personaAccess: strings("Names of the LanguagePersonas the role may use."),
  agentAccess: strings("Names of the LanguageAgents the role may invoke."),
}).annotate({ description: "One role of the client's access control." })
export type RbacRole = typeof RbacRole.Type

export const Authentication = Schema.Struct({
  enabled: flag(false, "Authenticate users; when false the client is open to anonymous use."),
  providers: optional(
    Schema.Array(AuthProvider),
    "Identity providers. When enabled, at least one must be enabled unless anonymous access is allowed.",
  ),
  requireAuthentication: flag(
    false,
    "Block unauthenticated use; wins over allowAnonymous. With an enabled ingress it needs an enabled provider.",
  ),
  allowAnonymous: flag(true, "Allow anonymous use unless requireAuthentication is true."),
  rbac: optional(
    Schema.Struct({
      enabled: flag(false, "Enforce roles."),
      roles: optional(Schema.Array(RbacRole), "Roles users can have."),
      defaultRole: withDefault(
        described(
          Schema.String,
          "Role given to new users; with rbac enabled and roles listed it must name one of them. Default user.",
        ),
        "user",
      ),
    }),
    "Role-based access control, enforced by the application.",
  ),
}).annotate({
  description:
    "Authentication settings. The operator delivers them (auth.json, mounted provider Secrets); the application authenticates.",
})
export type Authentication = typeof Authentication.Type

// ---------------------------------------------------------------------------------------------------------
// Rate limiting, moderation, UI

const limit = (description: string) => optional(Int32, description)

export const RateLimiting = Schema.Struct({
  requestsPerMinute: limit("Requests per minute."),
  requestsPerHour: limit("Requests per hour."),
  requestsPerDay: limit("Requests per day."),
  tokensPerMinute: limit("Model tokens per minute."),
  tokensPerDay: limit("Model tokens per day."),
  costPerDay: limit("Model cost per day in USD cents."),
  concurrentSessions: limit("Sessions open at the same time."),
  strategy: withDefault(
    described(
      Schema.Literals(["fixed-window", "sliding-window", "token-bucket"]),
      "Limiting algorithm. Default sliding-window.",
    ),
    "sliding-window",
  ),
}).annotate({ description: "Limits per user or session, enforced by the application." })
export type RateLimiting = typeof RateLimiting.Type

export const ContentFilter = Schema.Struct({
  name: described(Schema.String, "Filter name, unique within the client."),
  pattern: described(Schema.String, "Regular expression matched against messages."),
  action: optional(
    ModerationAction,
    "What happens on a match; when unset the filter follows contentModeration.action.",
  ),
  message: optional(Schema.String, "Text shown to the user on a match."),
}).annotate({ description: "A custom content filter." })
export type ContentFilter = typeof ContentFilter.Type

export const ContentModeration = Schema.Struct({
  enabled: flag(false, "Moderate messages."),
  filterProfanity: flag(false, "Filter profanity."),
  filterPII: flag(false, "Filter personally identifiable information."),
  filterToxic: flag(false, "Filter toxic content."),
  customFilters: optional(Schema.Array(ContentFilter), "Additional pattern filters; names must be unique."),
  action: withDefault(
    described(ModerationAction, "What happens when a filter matches. Default warn."),
    "warn",
  ),
}).annotate({ description: "Content moderation, enforced by the application." })
export type ContentModeration = typeof ContentModeration.Type

export const UiFeatures = Schema.Struct({
  showModelSelector: flag(true, "Show the model selector."),
  showPersonaSelector: flag(false, "Show the persona selector."),
  showToolUsage: flag(true, "Show tool calls."),
  showThinkingProcess: flag(false, "Show the model's reasoning."),
  enableFileUpload: flag(false, "Allow file uploads."),
  enableVoiceInput: flag(false, "Allow voice input."),
  enableExport: flag(true, "Allow exporting conversations."),
  enableSharing: flag(false, "Allow sharing conversations."),
  showTimestamps: flag(true, "Show message timestamps."),
  showCosts: flag(false, "Show costs."),
}).annotate({ description: "UI feature switches." })

export const UiConfig = Schema.Struct({
  title: optional(Schema.String, "Page title."),
  description: optional(Schema.String, "Description shown in the UI."),
  logo: optional(Schema.String, "URL of the logo."),
  theme: withDefault(
    described(Schema.Literals(["light", "dark", "auto"]), "Colour theme. Default auto."),
    "auto",
  ),
  primaryColor: optional(Schema.String, "Primary colour."),
  secondaryColor: optional(Schema.String, "Secondary colour."),
  customCSS: optional(Schema.String, "URL of a custom stylesheet."),
  customJS: optional(Schema.String, "URL of a custom script."),
  features: optional(UiFeatures, "UI feature switches."),
  footer: optional(Schema.String, "Footer text."),
  privacyPolicyURL: optional(Schema.String, "URL of the privacy policy."),
  termsOfServiceURL: optional(Schema.String, "URL of the terms of service."),
}).annotate({ description: "UI customisation, delivered to the application in client.json." })
export type UiConfig = typeof UiConfig.Type

// ---------------------------------------------------------------------------------------------------------
// Exposure: Ingress, TLS, CORS

export const PathType = Schema.Literals(["Exact", "Prefix", "ImplementationSpecific"])

/** Used for `spec.ingress` and `spec.regions[].ingress` (identical fields). */
export const IngressSpec = Schema.Struct({
  enabled: flag(false, "Create an Ingress."),
  className: optional(Schema.String, "IngressClass name; the cluster default when unset."),
  hosts: optional(
    Schema.Array(Schema.String).check(Schema.isMinLength(1)),
    "Host names, one rule each; at least one when set. Without hosts the Ingress has one host-less rule.",
  ),
  annotations: optional(
    StringMap,
    "Annotations of the Ingress (e.g. sticky-session settings of the ingress controller).",
  ),
  tls: optional(Schema.Array(IngressTLS), "TLS entries of the Ingress, as given (networking/v1 IngressTLS)."),
  path: withDefault(described(Schema.String, "HTTP path of every rule. Default /."), "/"),
  pathType: withDefault(described(PathType, "Path matching of every rule. Default Prefix."), "Prefix"),
}).annotate({ description: "External access through a networking.k8s.io/v1 Ingress." })
export type IngressSpec = typeof IngressSpec.Type

export const ClientTLS = Schema.Struct({
  enabled: flag(
    false,
    "Serve HTTPS: needs secretRef or certManager. Without an enabled ingress the Secret is mounted at /etc/langop/tls and the application terminates TLS.",
  ),
  secretRef: optional(
    SecretReference,
    "kubernetes.io/tls Secret in the client's namespace; key is ignored (tls.crt and tls.key are used).",
  ),
  certManager: flag(
    false,
    "Let cert-manager issue the certificate (Secret <name>-tls); needs certManagerIssuer unless the operator has a default issuer.",
  ),
  certManagerIssuer: optional(
    Schema.String,
    "cert-manager issuer name: a namespaced Issuer of that name if one exists, otherwise a ClusterIssuer.",
  ),
}).annotate({ description: "TLS for the client." })
export type ClientTLS = typeof ClientTLS.Type

export const Cors = Schema.Struct({
  enabled: flag(false, "Send CORS headers."),
  allowedOrigins: strings('Allowed origins; "*" is not allowed together with allowCredentials.'),
  allowedMethods: strings("Allowed HTTP methods."),
  allowedHeaders: strings("Allowed request headers."),
  allowCredentials: flag(false, 'Allow credentials; invalid with "*" in allowedOrigins.'),
  maxAge: optional(Int32, "How long browsers may cache a preflight answer, in seconds."),
}).annotate({ description: "Cross-origin resource sharing, applied by the application." })
export type Cors = typeof Cors.Type

// ---------------------------------------------------------------------------------------------------------
// Observability

export const ClientMonitoring = Schema.Struct({
  enabled: flag(true, "Expose metrics."),
  prometheus: flag(true, "Add prometheus.io/scrape, port and path annotations to the pods."),
  metricsPath: withDefault(
    described(Schema.String, "HTTP path of the metrics. Default /metrics."),
    "/metrics",
  ),
  serviceMonitor: flag(false, "Create a ServiceMonitor (when the Prometheus Operator CRD is installed)."),
  additionalLabels: optional(StringMap, "Extra labels of the ServiceMonitor."),
}).annotate({ description: "Metrics of the client." })

export const ClientLogging = Schema.Struct({
  level: withDefault(
    described(Schema.Literals(["debug", "info", "warn", "error"]), "Log level (LOG_LEVEL). Default info."),
    "info",
  ),
  format: withDefault(
    described(Schema.Literals(["json", "text"]), "Log format (LOG_FORMAT). Default json."),
    "json",
  ),
  logRequests: flag(true, "Log requests."),
  logResponses: flag(false, "Log responses."),
  sanitizeSecrets: flag(true, "Redact secrets in logs."),
}).annotate({ description: "Logging of the client application." })

// ---------------------------------------------------------------------------------------------------------
// Regions

export const ClientRegion = Schema.Struct({
  name: described(
    Schema.String,
    "Region id: a DNS-1123 label, unique within the client, with <name>-<region> at most 63 characters. Pods are pinned with topology.kubernetes.io/region unless nodeSelector or affinity is given.",
  ),
  enabled: flag(true, "Deploy this region; disabled regions' objects are deleted."),
  replicas: optional(Int32, "Replicas of this region's Deployment; spec.replicas when unset."),
  modelRefs: optional(Schema.Array(ModelReference), "Models for this region; spec.modelRefs when empty."),
  nodeSelector: optional(StringMap, "Node selector of this region's pods (replaces the default pinning)."),
  affinity: optional(Affinity, "Affinity of this region's pods; spec.affinity when unset."),
  ingress: optional(IngressSpec, "Ingress <name>-<region> for this region's Service."),
}).annotate({
  description: "One region: its own Deployment and Service <name>-<region>, optionally an Ingress.",
})
export type ClientRegion = typeof ClientRegion.Type

// ---------------------------------------------------------------------------------------------------------
// Spec

export const LanguageClientSpec = Schema.Struct({
  clusterRef: optional(
    Schema.String,
    "Name of the LanguageCluster this client belongs to; the cluster's namespace must be the client's namespace.",
  ),
  image: described(NonEmptyString, "Container image of the client application."),
  imagePullPolicy: withDefault(
    described(
      Schema.Literals(["Always", "Never", "IfNotPresent"]),
      "Image pull policy. Default IfNotPresent.",
    ),
    "IfNotPresent",
  ),
  imagePullSecrets: optional(Schema.Array(LocalObjectReference), "Secrets for pulling the image."),
  type: withDefault(described(ClientType, "Kind of interface (CLIENT_TYPE). Default web."), "web"),
  port: withDefault(described(PortNumber, "Listening port of the application, 1-65535. Default 8080."), 8080),
  replicas: withDefault(
    described(
      Int32.check(Schema.isGreaterThanOrEqualTo(0)),
      "Pods of the Deployment (per region unless overridden), at least 0; ignored when the autoscaler is enabled. Default 2.",
    ),
    2,
  ),
  modelRefs: described(
    Schema.Array(ModelReference).check(Schema.isMinLength(1)),
    "LanguageModels the client may use; at least one.",
  ),
  toolRefs: optional(
    Schema.Array(ToolReference),
    "LanguageTools the client may use. Only service-mode tools are offered; sidecar-mode tools are skipped.",
  ),
  personaRef: optional(PersonaReference, "Default LanguagePersona; it must be Ready."),
  agentRefs: optional(Schema.Array(AgentReference), "LanguageAgents the client can invoke."),
  allowModelSelection: flag(true, "Users may pick the model."),
  allowPersonaSelection: flag(false, "Users may pick the persona."),
  sessionConfig: optional(SessionConfig, "Session management."),
  authentication: optional(Authentication, "Authentication and access control."),
  rateLimiting: optional(RateLimiting, "Rate limits per user or session."),
  contentModeration: optional(ContentModeration, "Content moderation."),
  uiConfig: optional(UiConfig, "UI customisation."),
  ingress: optional(IngressSpec, "External access through an Ingress <name>."),
  tls: optional(ClientTLS, "TLS settings."),
  cors: optional(Cors, "CORS settings."),
  monitoring: optional(ClientMonitoring, "Metrics."),
  logging: optional(ClientLogging, "Logging; sets LOG_LEVEL and LOG_FORMAT when present."),
  env: optional(
    Schema.Array(EnvVar),
    "Extra environment variables; a name the operator also sets overrides it.",
  ),
  envFrom: optional(Schema.Array(EnvFromSource), "Environment from ConfigMaps or Secrets."),
  resources: optional(ResourceRequirements, "Compute resources of the client container."),
  nodeSelector: optional(StringMap, "Node selector of the pods."),
  affinity: optional(Affinity, "Affinity of the pods."),
  tolerations: optional(Schema.Array(Toleration), "Tolerations of the pods."),
  topologySpreadConstraints: optional(
    Schema.Array(TopologySpreadConstraint),
    "Topology spread constraints of the pods.",
  ),
  serviceAccountName: optional(Schema.String, "ServiceAccount of the pods."),
  securityContext: optional(
    PodSecurityContext,
    "Pod security context. Fields left unset get the restricted Pod Security Standard (runAsNonRoot: true, a RuntimeDefault seccomp profile; not runAsNonRoot when you set runAsUser: 0); a value you set is used unchanged, and one that restricted forbids (e.g. runAsUser: 0) is admitted with a warning where the namespace's pod-security.kubernetes.io/enforce level allows it (no label = privileged) and denied where it does not. An image whose USER is a name rather than a number needs runAsUser set to its numeric uid.",
  ),
  containerSecurityContext: optional(
    SecurityContext,
    "Security context of the client container. Fields left unset get the restricted Pod Security Standard (allowPrivilegeEscalation: false, capabilities.drop [ALL]; not allowPrivilegeEscalation when you set privileged or add SYS_ADMIN); a value you set is used unchanged, and one that restricted forbids (e.g. privileged: true, or capabilities.add NET_ADMIN, kept beside the default drop of ALL) is admitted with a warning where the namespace's pod-security.kubernetes.io/enforce level allows it (no label = privileged) and denied where it does not.",
  ),
  volumeMounts: optional(Schema.Array(VolumeMount), "Extra volume mounts of the client container."),
  volumes: optional(
    Schema.Array(Volume),
    "Extra pod volumes; the names client-config, auth-<n>, session-secret and tls are reserved.",
  ),
  livenessProbe: optional(Probe, "Liveness probe of the client container."),
  readinessProbe: optional(Probe, "Readiness probe of the client container."),
  startupProbe: optional(Probe, "Startup probe of the client container."),
  serviceType: withDefault(
    described(ClientServiceType, "Type of the Service <name>. Default ClusterIP."),
    "ClusterIP",
  ),
  serviceAnnotations: optional(StringMap, "Annotations of the Service."),
  podAnnotations: optional(
    StringMap,
    "Annotations of the pods; the operator's own annotations win. Keys under langop.io/ are the operator's marks and are denied.",
  ),
  podLabels: optional(
    StringMap,
    "Labels of the pods; they cannot override the common labels. Keys under langop.io/ are the operator's and are denied, except langop.io/group (egress group peers).",
  ),
  podDisruptionBudget: optional(PodDisruptionBudgetSpec, "PodDisruptionBudget <name> covering all regions."),
  updateStrategy: optional(UpdateStrategySpec, "Deployment update strategy."),
  horizontalPodAutoscaler: optional(
    HorizontalPodAutoscalerSpec,
    "Autoscaling of the Deployment (one autoscaler per regional Deployment with regions).",
  ),
  regions: optional(
    Schema.Array(ClientRegion),
    "Regions: with at least one enabled region, one Deployment and Service per region replace Deployment <name>.",
  ),
}).annotate({ description: "Desired state of the LanguageClient." })
export type LanguageClientSpec = typeof LanguageClientSpec.Type

// ---------------------------------------------------------------------------------------------------------
// Status

const ToolUsage = Schema.Struct({
  toolName: described(Schema.String, "Name of the tool."),
  count: described(Int64, "Number of uses."),
  percentage: optional(Schema.Finite, "Share of all uses in percent."),
}).annotate({ description: "Usage of one tool." })

const PersonaUsage = Schema.Struct({
  personaName: described(Schema.String, "Name of the persona."),
  count: described(Int64, "Number of uses."),
  percentage: optional(Schema.Finite, "Share of all uses in percent."),
}).annotate({ description: "Usage of one persona." })

const ModelUsage = Schema.Struct({
  modelName: described(Schema.String, "Name of the model."),
  count: described(Int64, "Number of uses."),
  percentage: optional(Schema.Finite, "Share of all uses in percent."),
  totalTokens: optional(Int64, "Tokens used."),
  totalCost: optional(Int64, "Cost in USD cents."),
}).annotate({ description: "Usage of one model." })

export const ClientMetrics = Schema.Struct({
  totalRequests: optional(Int64, "Requests served."),
  totalSessions: optional(Int64, "Sessions started."),
  totalMessages: optional(Int64, "Messages exchanged."),
  totalTokens: optional(Int64, "Model tokens used."),
  totalCost: optional(Int64, "Model cost in USD cents."),
  averageResponseTime: optional(Int32, "Average response time in milliseconds."),
  p50ResponseTime: optional(Int32, "Median response time in milliseconds."),
  p95ResponseTime: optional(Int32, "95th percentile response time in milliseconds."),
  p99ResponseTime: optional(Int32, "99th percentile response time in milliseconds."),
  errorRate: optional(Schema.Finite, "Failed requests in percent."),
  topModels: optional(Schema.Array(ModelUsage), "Most used models."),
  topTools: optional(Schema.Array(ToolUsage), "Most used tools."),
  topPersonas: optional(Schema.Array(PersonaUsage), "Most used personas."),
  userRetention: optional(Schema.Finite, "Returning users in percent."),
  averageSessionLength: optional(Int32, "Average session length in seconds."),
  rateLimitHits: optional(Int64, "Requests refused by rate limits."),
  contentModerationFlags: optional(Int64, "Messages flagged by moderation."),
}).annotate({
  description: "Usage metrics; unset until a scraping contract exists (docs/languageclient.md CL-10).",
})

export const RegionStatus = Schema.Struct({
  name: described(Schema.String, "Region name."),
  phase: optional(Schema.String, "Phase of the region's Deployment (same values as status.phase)."),
  readyReplicas: optional(Int32, "Ready pods of the region."),
  url: optional(Schema.String, "URL of the region."),
  lastUpdateTime: optional(DateTime, "When this entry last changed."),
  message: optional(Schema.String, "Details."),
}).annotate({ description: "Observed state of one enabled region." })
export type RegionStatus = typeof RegionStatus.Type

const replicaCount = (description: string) =>
  optional(Int32, `${description}, summed over the client's Deployments.`)

export const LanguageClientStatus = Schema.Struct({
  observedGeneration: optional(Int64, "The metadata.generation the status reflects."),
  phase: optional(
    ClientPhase,
    "Pending, Updating, Running or Failed from the client's Deployments; Unknown when they cannot be read.",
  ),
  conditions: Schema.optionalKey(Conditions),
  url: optional(Schema.String, "Primary access URL (Ingress, LoadBalancer or in-cluster Service)."),
  regionalURLs: optional(StringMap, "Access URL per region name."),
  readyReplicas: replicaCount("Ready pods"),
  availableReplicas: replicaCount("Available pods"),
  updatedReplicas: replicaCount("Updated pods"),
  unavailableReplicas: replicaCount("Unavailable pods"),
  activeSessions: optional(Int32, "Open sessions (only when metrics are scraped)."),
  totalUsers: optional(Int64, "Distinct users (only when metrics are scraped)."),
  metrics: optional(ClientMetrics, "Usage metrics (only when metrics are scraped)."),
  regionStatus: optional(Schema.Array(RegionStatus), "One entry per enabled region."),
  lastUpdateTime: optional(DateTime, "When the status last changed."),
  message: optional(Schema.String, "Human-readable summary."),
  reason: optional(Schema.String, "Machine-readable reason of the summary."),
}).annotate({ description: "Observed state of the LanguageClient." })
export type LanguageClientStatus = typeof LanguageClientStatus.Type

export const LanguageClientKind = defineKind({
  kind: "LanguageClient",
  plural: "languageclients",
  singular: "languageclient",
  listKind: "LanguageClientList",
  shortNames: ["lclient"],
  scope: "Namespaced",
  description:
    "LanguageClient deploys a user-facing front end (web UI, API or chat integration) for models, tools, personas and agents, with optional Ingress, TLS, authentication, sessions, autoscaling and regions.",
  printerColumns: [
    { name: "Type", type: "string", jsonPath: ".spec.type" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "URL", type: "string", jsonPath: ".status.url" },
    { name: "Sessions", type: "integer", jsonPath: ".status.activeSessions" },
    { name: "Users", type: "integer", jsonPath: ".status.totalUsers" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: true,
  spec: LanguageClientSpec,
  status: LanguageClientStatus,
})
export const LanguageClient = LanguageClientKind.resource
export type LanguageClient = typeof LanguageClient.Type
