/**
 * The MutatingWebhookConfiguration `langop-mutating` and ValidatingWebhookConfiguration
 * `langop-validating`, generated from the handler table (docs/admission.md §Webhook configurations), so
 * every route the server answers is registered and nothing else is.
 *
 * Two forms:
 * - in a cluster (`{ mode: "service" }`): `clientConfig.service` → the operator's Service (port 443,
 *   which targets the server's 9443), CA injected by cert-manager's cainjector through
 *   `cert-manager.io/inject-ca-from`, or given as `caBundle` by the operator's own certificate
 *   manager (then no annotation);
 * - out of cluster (`{ mode: "url" }`): `clientConfig.url: https://127.0.0.1:<port><path>` with the
 *   dev CA as `caBundle` (tests, the local control plane).
 * Every webhook: `admissionReviewVersions: [v1]`, `sideEffects: None`, `timeoutSeconds: 5`,
 * `failurePolicy: Fail`, `matchPolicy: Equivalent`; rules name only the main resource (no
 * subresources). Mutating webhooks of our kinds use `reinvocationPolicy: Never` (defaulting does not
 * depend on other webhooks' changes); the Pod webhook uses `IfNeeded`, selects Pods labelled
 * `langop.io/kind: LanguageAgent` and skips `kube-system` and the operator's namespace.
 */
import type {
  V1LabelSelector,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
  V1RuleWithOperations,
  V1ValidatingWebhook,
  V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node"
import type { HandlerEntry, HandlerTable } from "./handlers.ts"

export const MutatingConfigurationName = "langop-mutating"
export const ValidatingConfigurationName = "langop-validating"
export const DefaultOperatorNamespace = "langop-system"
export const DefaultServiceName = "langop-webhook"
export const DefaultServingCertificate = "langop-serving-cert"
export const DefaultWebhookPort = 9443
export const CaInjectAnnotation = "cert-manager.io/inject-ca-from"

/** In-cluster registration through the operator's Service. */
export interface ServiceTarget {
  readonly mode: "service"
  /** The operator's namespace; default `langop-system`. */
  readonly namespace?: string | undefined
  /** Default `langop-webhook`. */
  readonly serviceName?: string | undefined
  /** Service port; default 443. */
  readonly port?: number | undefined
  /** cert-manager Certificate (`<namespace>/<name>`) whose CA cainjector injects; default `<namespace>/langop-serving-cert`. */
  readonly certificate?: string | undefined
  /** PEM CA bundle (operator's own certificate manager); when set, no cainjector annotation. */
  readonly caBundle?: string | undefined
}

/** Out-of-cluster registration by URL. */
export interface UrlTarget {
  readonly mode: "url"
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The admission server's port; default 9443. */
  readonly port?: number | undefined
  /** PEM CA that signed the serving certificate. */
  readonly caBundle: string
  /** Namespace the Pod webhook skips besides kube-system; default `langop-system`. */
  readonly operatorNamespace?: string | undefined
}

export type ConfigurationTarget = ServiceTarget | UrlTarget

export interface WebhookConfigurations {
  readonly mutating: V1MutatingWebhookConfiguration
  readonly validating: V1ValidatingWebhookConfiguration
}

const base64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64")

const clientConfig = (target: ConfigurationTarget, path: string) => {
  if (target.mode === "url") {
    const host = target.host ?? "127.0.0.1"
    const authority = host.includes(":") ? `[${host}]` : host
    return {
      url: `https://${authority}:${target.port ?? DefaultWebhookPort}${path}`,
      caBundle: base64(target.caBundle),
    }
  }
  const service = {
    namespace: target.namespace ?? DefaultOperatorNamespace,
    name: target.serviceName ?? DefaultServiceName,
    path,
    port: target.port ?? 443,
  }
  return target.caBundle === undefined ? { service } : { service, caBundle: base64(target.caBundle) }
}

const operatorNamespaceOf = (target: ConfigurationTarget) =>
  (target.mode === "url" ? target.operatorNamespace : target.namespace) ?? DefaultOperatorNamespace

const rule = <R>(entry: HandlerEntry<R>): V1RuleWithOperations => ({
  apiGroups: [entry.group],
  apiVersions: [entry.version],
  resources: [entry.resource],
  operations: [...entry.operations],
  // Our kinds mix scopes (LanguageCluster is cluster-scoped); the resource name is unique anyway.
  scope: entry.kind === "Pod" ? "Namespaced" : "*",
})

const common = <R>(entry: HandlerEntry<R>, target: ConfigurationTarget) => ({
  name: entry.name,
  admissionReviewVersions: ["v1"],
  clientConfig: clientConfig(target, entry.path),
  rules: [rule(entry)],
  failurePolicy: "Fail",
  matchPolicy: "Equivalent",
  sideEffects: "None",
  timeoutSeconds: 5,
})

const podSelectors = (
  target: ConfigurationTarget,
): { objectSelector: V1LabelSelector; namespaceSelector: V1LabelSelector } => ({
  objectSelector: { matchLabels: { "langop.io/kind": "LanguageAgent" } },
  namespaceSelector: {
    matchExpressions: [
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: [...new Set(["kube-system", operatorNamespaceOf(target)])],
      },
    ],
  },
})

const metadata = (name: string, target: ConfigurationTarget) => {
  if (target.mode === "service" && target.caBundle === undefined) {
    const namespace = target.namespace ?? DefaultOperatorNamespace
    const certificate = target.certificate ?? `${namespace}/${DefaultServingCertificate}`
    return { name, annotations: { [CaInjectAnnotation]: certificate } }
  }
  return { name }
}

/** Both configurations for `table`, registered as `target` says. */
export const webhookConfigurations = <R>(
  table: HandlerTable<R>,
  target: ConfigurationTarget,
): WebhookConfigurations => {
  const mutatingWebhooks: Array<V1MutatingWebhook> = table
    .filter((entry) => entry.type === "mutating")
    .map((entry) =>
      entry.kind === "Pod"
        ? { ...common(entry, target), ...podSelectors(target), reinvocationPolicy: "IfNeeded" }
        : { ...common(entry, target), reinvocationPolicy: "Never" },
    )
  const validatingWebhooks: Array<V1ValidatingWebhook> = table
    .filter((entry) => entry.type === "validating")
    .map((entry) =>
      entry.kind === "Pod" ? { ...common(entry, target), ...podSelectors(target) } : common(entry, target),
    )
  return {
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: metadata(MutatingConfigurationName, target),
      webhooks: mutatingWebhooks,
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: metadata(ValidatingConfigurationName, target),
      webhooks: validatingWebhooks,
    },
  }
}
