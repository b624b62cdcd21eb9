/**
 * Who may call a model proxy: the agents and clients that reference the model (any namespace) and the
 * models of its namespace that chain to it as a fallback. The informer sources here carry an index from
 * each referenced model (`<namespace>/<name>`) to its referrers, so the model controller reads them from
 * the caches and is enqueued (through the watch mappings in index.ts) whenever a reference appears,
 * changes or goes — both the old and the new referenced models, as the runtime maps both objects of an
 * update.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { LanguageClient } from "../../api/languageclient.ts"
import type { LanguageModel } from "../../api/languagemodel.ts"
import type { ModelReference } from "../../api/shared.ts"
import type { ProxyConsumer } from "../../network/ingress.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import type { InformersShape } from "../../runtime/informers.ts"
import { agentSource, clientSource, modelSource } from "../../runtime/sources.ts"

/** Referrers by the `<namespace>/<name>` of every model they reference. */
export const MODEL_CONSUMER_INDEX = "languagemodel/consumers"
/** Models by the `<namespace>/<name>` of every fallback they chain to. */
export const FALLBACK_TARGET_INDEX = "languagemodel/fallbackTargets"

const refKeys = (own: string, refs: ReadonlyArray<ModelReference>): ReadonlyArray<string> => [
  ...new Set(
    refs.map((r) => `${r.namespace === undefined || r.namespace === "" ? own : r.namespace}/${r.name}`),
  ),
]

export const agentModelKeys = (a: LanguageAgent): ReadonlyArray<string> =>
  a.metadata.deletionTimestamp !== undefined ? [] : refKeys(a.metadata.namespace ?? "", a.spec.modelRefs)

export const clientModelKeys = (c: LanguageClient): ReadonlyArray<string> =>
  c.metadata.deletionTimestamp !== undefined
    ? []
    : refKeys(c.metadata.namespace ?? "", [
        ...c.spec.modelRefs,
        ...(c.spec.regions ?? []).flatMap((r) => r.modelRefs ?? []),
      ])

export const fallbackTargetKeys = (m: LanguageModel): ReadonlyArray<string> =>
  m.metadata.deletionTimestamp !== undefined
    ? []
    : [...new Set((m.spec.fallbacks ?? []).map((f) => `${m.metadata.namespace ?? ""}/${f.modelRef}`))]

export const consumingAgentsSource: InformerSource<LanguageAgent> = {
  ...agentSource,
  indexers: { [MODEL_CONSUMER_INDEX]: agentModelKeys },
}

export const consumingClientsSource: InformerSource<LanguageClient> = {
  ...clientSource,
  indexers: { [MODEL_CONSUMER_INDEX]: clientModelKeys },
}

export const chainingModelsSource: InformerSource<LanguageModel> = {
  ...modelSource,
  indexers: { [FALLBACK_TARGET_INDEX]: fallbackTargetKeys },
}

/** Everything that may call the proxy of `model` (`<namespace>/<name>`), from the caches; sorted. */
export const consumersOf = (informers: InformersShape, namespace: string, name: string) => {
  const key = `${namespace}/${name}`
  const of =
    (kind: ProxyConsumer["kind"]) =>
    (o: {
      readonly metadata: { readonly namespace?: string | undefined; readonly name?: string | undefined }
    }) => ({
      kind,
      namespace: o.metadata.namespace ?? "",
      name: o.metadata.name ?? "",
    })
  const consumers: ReadonlyArray<ProxyConsumer> = [
    ...informers.cache(consumingAgentsSource).byIndex(MODEL_CONSUMER_INDEX, key).map(of("LanguageAgent")),
    ...informers.cache(consumingClientsSource).byIndex(MODEL_CONSUMER_INDEX, key).map(of("LanguageClient")),
    ...informers.cache(chainingModelsSource).byIndex(FALLBACK_TARGET_INDEX, key).map(of("LanguageModel")),
  ]
  return consumers
}
