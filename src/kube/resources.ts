// Resource descriptors: the minimum a generic client needs to address a kind without discovery.
//
// Guarantees: every descriptor here is a constant checked against the Kubernetes API reference
// (group, version, plural, scope); `resourcePath` builds the same URLs kubectl uses. No discovery
// request is ever made: the operator only touches the kinds listed here (or descriptors callers
// build with `resource(...)`), so URL construction is a pure function.

/** Group/version/kind plus the REST plural and scope of one API resource. */
export interface ResourceDescriptor {
  /** API group; "" for the core group. */
  readonly group: string
  readonly version: string
  readonly kind: string
  /** REST resource name (lower-case plural) used in URLs. */
  readonly plural: string
  readonly namespaced: boolean
}

/** Builds a descriptor (no I/O). */
export const resource = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
): ResourceDescriptor => ({ group, version, kind, plural, namespaced })

/** `v1` for the core group, `<group>/<version>` otherwise (the `apiVersion` field of objects). */
export const apiVersionOf = (r: ResourceDescriptor): string =>
  r.group === "" ? r.version : `${r.group}/${r.version}`

/** Stable identity of a resource (used to share one informer per kind). */
export const resourceId = (r: ResourceDescriptor): string => `${r.plural}.${r.version}.${r.group}`

/** `/api/v1` or `/apis/<group>/<version>`. */
export const groupVersionPath = (r: ResourceDescriptor): string =>
  r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`

export interface PathOptions {
  /** Ignored for cluster-scoped resources; omitted on a namespaced resource means "all namespaces". */
  readonly namespace?: string | undefined
  readonly name?: string | undefined
  readonly subresource?: string | undefined
}

/** REST path of a collection, an object or an object's subresource. */
export const resourcePath = (r: ResourceDescriptor, opts: PathOptions = {}): string => {
  let path = groupVersionPath(r)
  if (r.namespaced && opts.namespace !== undefined && opts.namespace !== "") {
    path += `/namespaces/${encodeURIComponent(opts.namespace)}`
  }
  path += `/${r.plural}`
  if (opts.name !== undefined) {
    path += `/${encodeURIComponent(opts.name)}`
    if (opts.subresource !== undefined) path += `/${opts.subresource}`
  }
  return path
}

/** Built-in kinds the operator reads or writes. */
export const Builtin = {
  Namespace: resource("", "v1", "Namespace", "namespaces", false),
  ConfigMap: resource("", "v1", "ConfigMap", "configmaps", true),
  Secret: resource("", "v1", "Secret", "secrets", true),
  Service: resource("", "v1", "Service", "services", true),
  ServiceAccount: resource("", "v1", "ServiceAccount", "serviceaccounts", true),
  PersistentVolumeClaim: resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
  Pod: resource("", "v1", "Pod", "pods", true),
  Deployment: resource("apps", "v1", "Deployment", "deployments", true),
  ReplicaSet: resource("apps", "v1", "ReplicaSet", "replicasets", true),
  CronJob: resource("batch", "v1", "CronJob", "cronjobs", true),
  Job: resource("batch", "v1", "Job", "jobs", true),
  NetworkPolicy: resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
  Ingress: resource("networking.k8s.io", "v1", "Ingress", "ingresses", true),
  PodDisruptionBudget: resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
  HorizontalPodAutoscaler: resource(
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    true,
  ),
  Role: resource("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  RoleBinding: resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  Lease: resource("coordination.k8s.io", "v1", "Lease", "leases", true),
  Event: resource("events.k8s.io", "v1", "Event", "events", true),
  EndpointSlice: resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
  CustomResourceDefinition: resource(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    false,
  ),
  ValidatingWebhookConfiguration: resource(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    false,
  ),
  MutatingWebhookConfiguration: resource(
    "admissionregistration.k8s.io",
    "v1",
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    false,
  ),
} as const satisfies Record<string, ResourceDescriptor>

export const LANGOP_GROUP = "langop.io"
export const LANGOP_VERSION = "v1alpha1"

/** The operator's own kinds (group `langop.io`, version `v1alpha1`). */
export const Langop = {
  LanguageCluster: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguageCluster", "languageclusters", false),
  LanguageAgent: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguageAgent", "languageagents", true),
  LanguageTool: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguageTool", "languagetools", true),
  LanguageModel: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguageModel", "languagemodels", true),
  LanguagePersona: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguagePersona", "languagepersonas", true),
  LanguageClient: resource(LANGOP_GROUP, LANGOP_VERSION, "LanguageClient", "languageclients", true),
} as const satisfies Record<string, ResourceDescriptor>

const byApiVersionKind = new Map<string, ResourceDescriptor>(
  [...Object.values(Builtin), ...Object.values(Langop)].map((r) => [`${apiVersionOf(r)}/${r.kind}`, r]),
)

/** Looks up a registered descriptor by an object's `apiVersion` and `kind`. */
export const resourceFor = (apiVersion: string, kind: string): ResourceDescriptor | undefined =>
  byApiVersionKind.get(`${apiVersion}/${kind}`)
