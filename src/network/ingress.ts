/**
 * The ingress NetworkPolicy of a model proxy: only its own consumers may call it, because every call
 * spends the model's provider budget. PURE.
 *
 * Admitted, on the proxy container port only:
 * - the Pods of every LanguageAgent and LanguageClient that references the model, in any namespace
 *   (selected by the operator's own pod labels `langop.io/kind` + `app.kubernetes.io/name` in that
 *   namespace — labels the operator sets on their pod templates last, so `podLabels` cannot change them);
 * - the proxies of LanguageModels that chain to this one as a fallback (same namespace);
 * - the operator's Pods, only while it probes proxies (metrics scrape, health polling, usage attribution),
 *   selected by the operator Deployment's pod labels in the operator's namespace. An operator running
 *   outside the cluster has no Pod to select: its probes then reach proxies only through paths that do not
 *   cross the pod network (`kubectl port-forward` enters the pod's own network namespace), and the rule
 *   matches nothing, opening nothing.
 * Nothing else: with no consumer the policy has no rule and the proxy accepts no connection. Labels alone
 * cannot prove a Pod's identity (anyone who may create Pods in a consumer's namespace can copy them), which
 * is why the proxy also requires its per-model key.
 *
 * Guarantees: deterministic (peers sorted and deduplicated, ports canonical), so equal inputs give equal
 * objects; {@link ingressPoliciesEquivalent} compares semantically, so the API server's defaults and
 * field order never cause a write.
 */
import { commonLabels, LABEL_KIND, LABEL_NAME } from "../domain/labels.ts"
import { MODEL_PROXY_PORT } from "./policy.ts"
import {
  canonicalPeers,
  canonicalPorts,
  canonicalSelector,
  type LabelSelector,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
} from "./types.ts"

/** A workload allowed to call the proxy. */
export interface ProxyConsumer {
  readonly kind: "LanguageAgent" | "LanguageClient" | "LanguageModel"
  readonly namespace: string
  readonly name: string
}

/** The operator's Pods, when it probes proxies; undefined when it does not. */
export interface OperatorPeer {
  readonly namespace: string
  readonly podLabels: Readonly<Record<string, string>>
}

/**
 * Pod labels of the operator Deployment (deploy/base/deployment.yaml; a unit test keeps them equal).
 * `app.kubernetes.io/name` alone: it names the operator, and kustomize overlays keep it.
 */
export const OPERATOR_POD_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "langop-operator",
}

/**
 * `<model>.ingress`: the dot keeps it apart from every egress policy, which is named after an agent, tool
 * or model — DNS-1035 labels, which have no dots — so a model called `<x>-ingress` cannot collide with it.
 */
export const ingressPolicyName = (model: string): string => `${model}.ingress`

export interface IngressRule {
  readonly from?: ReadonlyArray<NetworkPolicyPeer>
  readonly ports?: ReadonlyArray<NetworkPolicyPort>
}

export interface IngressPolicy {
  readonly apiVersion: "networking.k8s.io/v1"
  readonly kind: "NetworkPolicy"
  readonly metadata: {
    readonly name: string
    readonly namespace: string
    readonly labels: Readonly<Record<string, string>>
  }
  readonly spec: {
    readonly podSelector: LabelSelector
    readonly policyTypes: ReadonlyArray<"Ingress">
    readonly ingress: ReadonlyArray<IngressRule>
  }
}

const peerOf = (namespace: string, podLabels: Readonly<Record<string, string>>): NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  podSelector: { matchLabels: podLabels },
})

const consumerLabels = (c: ProxyConsumer) => ({ [LABEL_NAME]: c.name, [LABEL_KIND]: c.kind })

export const buildModelIngressPolicy = (
  model: { readonly namespace: string; readonly name: string },
  consumers: ReadonlyArray<ProxyConsumer>,
  operator: OperatorPeer | undefined,
): IngressPolicy => {
  const labels = commonLabels("LanguageModel", model.name)
  const peers = canonicalPeers([
    ...consumers
      .filter(
        (c) => !(c.kind === "LanguageModel" && c.namespace === model.namespace && c.name === model.name),
      )
      .map((c) => peerOf(c.namespace, consumerLabels(c))),
    ...(operator === undefined ? [] : [peerOf(operator.namespace, operator.podLabels)]),
  ])
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: ingressPolicyName(model.name), namespace: model.namespace, labels },
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ["Ingress"],
      ingress:
        peers.length === 0
          ? []
          : [{ from: peers, ports: canonicalPorts([{ protocol: "TCP", port: MODEL_PROXY_PORT }]) }],
    },
  }
}

/** The live object as read (loose). */
export interface LiveIngressPolicy {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> }
  readonly spec?: {
    readonly podSelector?: LabelSelector
    readonly policyTypes?: ReadonlyArray<string>
    readonly ingress?: ReadonlyArray<IngressRule>
    readonly egress?: ReadonlyArray<unknown>
  }
}

const canonicalIngress = (spec: LiveIngressPolicy["spec"]): string =>
  JSON.stringify({
    podSelector: canonicalSelector(spec?.podSelector ?? {}),
    policyTypes: [...new Set(spec?.policyTypes ?? ["Ingress"])].sort(),
    ingress: [
      ...new Set(
        (spec?.ingress ?? []).map((r) =>
          JSON.stringify({ from: canonicalPeers(r.from ?? []), ports: canonicalPorts(r.ports ?? []) }),
        ),
      ),
    ].sort(),
    egress: (spec?.egress ?? []).length,
  })

/** `true` when writing `desired` would not change what the live policy admits or how it is labelled. */
export const ingressPoliciesEquivalent = (desired: IngressPolicy, live: LiveIngressPolicy): boolean => {
  const liveLabels = live.metadata?.labels ?? {}
  const labelsOk = Object.entries(desired.metadata.labels).every(([k, v]) => liveLabels[k] === v)
  return labelsOk && canonicalIngress(desired.spec) === canonicalIngress(live.spec)
}
