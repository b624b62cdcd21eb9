/**
 * Gathers one LanguageClient reconcile's input (decide.ts `ClientInput`) and declares the informer
 * sources with this controller's indexes.
 *
 * Guarantees: reads informer caches; live requests only for (a) a wanted child missing from the caches
 * (the child caches hold only operator-labelled objects, so a user's object with our name is found and
 * reported as a NameConflict instead of being overwritten; the Certificate, which has no informer as
 * cert-manager may be absent, is always looked up this way, wanted or not, so an unwanted one is found and
 * removed), (b) the cert-manager Issuer lookup when
 * cert-manager TLS is configured (docs/languageclient.md CL-5; a missing cert-manager CRD means "no Issuer"), (c) the client's
 * ServiceMonitor, listed by name on every reconcile (a 404 means its CRD is not installed; the kind has
 * no informer because it may not exist, so a wanted one is re-checked periodically, see decide.ts).
 * A wanted Deployment whose GET fails (other than NotFound) is reported in `unreadable` instead of failing
 * the gather, so the status can say its state is Unknown.
 * Assumption: the caches are synced before the first reconcile (the runner waits for that).
 */
import { Clock, Effect, Result } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { LanguageClient } from "../../api/languageclient.ts"
import type { LanguageModel } from "../../api/languagemodel.ts"
import type { LanguagePersona } from "../../api/languagepersona.ts"
import type { LanguageTool } from "../../api/languagetool.ts"
import { LABEL_KIND, LABEL_NAME } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { decodeObject } from "../../kube/decode.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { apiVersionOf, Langop } from "../../kube/resources.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import {
  agentSource,
  clientSource,
  clusterSource,
  configMapSource,
  managedConfigMapSource,
  managedDeploymentSource,
  managedHpaSource,
  managedIngressSource,
  managedPdbSource,
  managedPodSource,
  managedServiceSource,
  modelSource,
  personaSource,
  secretSource,
  toolSource,
} from "../../runtime/sources.ts"
import { clusterRefIndex, clusterViewOf } from "../common/cluster-membership.ts"
import { envIndex, envReferences, envSourceVersions } from "../common/env-sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import { issuerName } from "./children.ts"
import { type ClientInput, ROLE_RESOURCE, type Unreadable, wantedChildren } from "./decide.ts"
import { referencedSecrets } from "./dependencies.ts"
import { CertManagerIssuer, KIND, ServiceMonitor } from "./names.ts"

export const CLUSTER_INDEX = "languageclient/clusterRef"
export const MODEL_INDEX = "languageclient/modelRefs"
export const TOOL_INDEX = "languageclient/toolRefs"
export const AGENT_INDEX = "languageclient/agentRefs"
export const PERSONA_INDEX = "languageclient/personaRef"
export const SECRET_INDEX = "languageclient/secrets"
export const CONFIGMAP_INDEX = "languageclient/envConfigMaps"

const refKey = (
  client: LanguageClient,
  ref: { readonly name: string; readonly namespace?: string | undefined },
) =>
  `${ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : (client.metadata.namespace ?? "")}/${ref.name}`

/** `ns/name` of every model a client references (top level and regions). */
export const modelRefKeys = (c: LanguageClient): ReadonlyArray<string> => [
  ...new Set(
    [...c.spec.modelRefs, ...(c.spec.regions ?? []).flatMap((r) => r.modelRefs ?? [])].map((r) =>
      refKey(c, r),
    ),
  ),
]

export const clients: InformerSource<LanguageClient> = {
  ...clientSource,
  indexers: {
    [CLUSTER_INDEX]: clusterRefIndex,
    [MODEL_INDEX]: modelRefKeys,
    [TOOL_INDEX]: (c) => (c.spec.toolRefs ?? []).map((r) => refKey(c, r)),
    [AGENT_INDEX]: (c) => (c.spec.agentRefs ?? []).map((r) => refKey(c, r)),
    [PERSONA_INDEX]: (c) => (c.spec.personaRef !== undefined ? [refKey(c, c.spec.personaRef)] : []),
    [SECRET_INDEX]: (c) => [
      ...new Set([
        ...referencedSecrets(c).map((s) => `${c.metadata.namespace ?? ""}/${s}`),
        ...envIndex("secrets")(c),
      ]),
    ],
    [CONFIGMAP_INDEX]: envIndex("configMaps"),
  },
}

/** Child caches (owned: drift and Deployment status changes re-trigger the client). */
export const childSources: ReadonlyArray<InformerSource<KubeObject>> = [
  managedConfigMapSource,
  managedDeploymentSource,
  managedServiceSource,
  managedIngressSource,
  managedPdbSource,
  managedHpaSource,
]

export interface GatherOptions {
  readonly clusterDomain: string
  readonly defaultIssuer: string | undefined
}

export type Gathered =
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Deleting"; readonly client: LanguageClient }
  | { readonly _tag: "Live"; readonly input: ClientInput }

const decodeClient = decodeObject(LanguageClient)

const ours =
  (name: string) => (o: { readonly metadata: { readonly labels?: Record<string, string> | undefined } }) =>
    o.metadata.labels?.[LABEL_KIND] === KIND && o.metadata.labels[LABEL_NAME] === name

export const gather = Effect.fn("languageclient.gather")(function* (
  req: ReconcileRequest,
  options: GatherOptions,
) {
  const informers = yield* Informers
  const kube = yield* KubeClient

  let client = informers.cache(clients).getByName(req.namespace, req.name)
  if (client === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguageClient, req))
    if (raw === undefined) return { _tag: "Gone" } satisfies Gathered
    const decoded = decodeClient(raw)
    if (Result.isFailure(decoded)) {
      yield* Effect.logWarning("LanguageClient does not decode", { problems: decoded.failure })
      return { _tag: "Gone" } satisfies Gathered
    }
    client = decoded.success
  }
  if (client.metadata.deletionTimestamp !== undefined) return { _tag: "Deleting", client } satisfies Gathered

  const live: Array<KubeObject> = childSources.flatMap((s) =>
    informers.cache(s).list(req.namespace).filter(ours(req.name)),
  )
  const unreadable: Array<Unreadable> = []
  for (const want of wantedChildren(client)) {
    const resource = ROLE_RESOURCE[want.role]
    if (live.some((o) => o.kind === resource.kind && o.metadata.name === want.name)) continue
    const read = orUndefinedOnNotFound(kube.get(resource, { namespace: req.namespace, name: want.name }))
    // A Deployment whose state cannot be read is reported (phase Unknown) rather than failing silently;
    // other reads fail the reconcile as before.
    const found =
      want.role === "deployment"
        ? yield* read.pipe(
            Effect.catch((error) =>
              Effect.as(
                Effect.sync(() => unreadable.push({ name: want.name, error })),
                undefined,
              ),
            ),
          )
        : yield* read
    if (found !== undefined) live.push(found)
  }
  // Looked up on every reconcile, wanted or not: one that is no longer wanted must be found to be removed.
  const monitors = yield* orUndefinedOnNotFound(
    kube.list(ServiceMonitor, { namespace: req.namespace, fieldSelector: `metadata.name=${req.name}` }),
  )
  const serviceMonitorCrd = monitors !== undefined
  const monitor = monitors?.items.find((m) => m.metadata.name === req.name)
  // List items carry no apiVersion/kind; the comparison with the desired object needs both.
  if (monitor !== undefined)
    live.push({ ...monitor, apiVersion: apiVersionOf(ServiceMonitor), kind: ServiceMonitor.kind })
  const issuer = issuerName(client, options.defaultIssuer)
  const issuerKind =
    issuer === undefined
      ? undefined
      : (yield* orUndefinedOnNotFound(
            kube.get(CertManagerIssuer, { namespace: req.namespace, name: issuer }),
          )) !== undefined
        ? ("Issuer" as const)
        : ("ClusterIssuer" as const)

  const cache = <T>(s: InformerSource<T>) => informers.cache(s)
  const secrets = cache(secretSource)
  const secretVersions = Object.fromEntries(
    referencedSecrets(client).map(
      (s) => [s, secrets.getByName(req.namespace, s)?.metadata.resourceVersion] as const,
    ),
  )
  const envSources = envSourceVersions(envReferences(client), req.namespace, {
    configMaps: cache(configMapSource),
    secrets,
  })
  const clusterRef = client.spec.clusterRef
  const clusterObj =
    clusterRef === undefined || clusterRef === "" ? undefined : cache(clusterSource).getByName("", clusterRef)
  const input: ClientInput = {
    client,
    cluster: clusterObj === undefined ? undefined : clusterViewOf(clusterObj),
    lookups: {
      model: (ns, name): LanguageModel | undefined => cache(modelSource).getByName(ns, name),
      tool: (ns, name): LanguageTool | undefined => cache(toolSource).getByName(ns, name),
      agent: (ns, name): LanguageAgent | undefined => cache(agentSource).getByName(ns, name),
      persona: (ns, name): LanguagePersona | undefined => cache(personaSource).getByName(ns, name),
      secretExists: (name) =>
        secretVersions[name] !== undefined || secrets.getByName(req.namespace, name) !== undefined,
    },
    secretVersions,
    envSources,
    live,
    unreadable,
    pods: cache(managedPodSource).list(req.namespace).filter(ours(req.name)),
    issuerKind,
    serviceMonitorCrd,
    clusterDomain: options.clusterDomain,
    defaultIssuer: options.defaultIssuer,
    now: rfc3339(yield* Clock.currentTimeMillis),
  }
  return { _tag: "Live", input } satisfies Gathered
})
