/**
 * The informer sources every controller registers, defined ONCE.
 *
 * Why: the informer registry (src/runtime/informers.ts) shares one informer per source id (resource,
 * namespace, selectors) and dies when the same id is registered with a different decoder function. A
 * controller that watches another kind must therefore use these exact objects (spread them to add its own
 * indexers: `{ ...personaSource, indexers: { … } }` keeps the decoder's identity; index names must be
 * unique across controllers, so prefix them with the controller, e.g. `languagepersona/parent`).
 *
 * Assumption: caches hold decoded objects (schema defaults applied, unknown spec fields dropped); an
 * object that does not decode stays out of the cache and gets an `InvalidObject` Warning Event.
 */
import { LanguageAgent } from "../api/languageagent.ts"
import { LanguageClient } from "../api/languageclient.ts"
import { LanguageCluster } from "../api/languagecluster.ts"
import { LanguageModel } from "../api/languagemodel.ts"
import { LanguagePersona } from "../api/languagepersona.ts"
import { LanguageTool } from "../api/languagetool.ts"
import { LABEL_KIND, LABEL_MANAGED_BY, LABEL_NAME, MANAGED_BY } from "../domain/labels.ts"
import { decodeObject } from "../kube/decode.ts"
import { type KubeObject, keyOf } from "../kube/objects.ts"
import { Builtin, Langop, type ResourceDescriptor } from "../kube/resources.ts"
import type { InformerSource } from "./informer.ts"
import { withoutSecretValues } from "./transforms.ts"

export const personaSource: InformerSource<LanguagePersona> = {
  resource: Langop.LanguagePersona,
  decode: decodeObject(LanguagePersona),
}

export const agentSource: InformerSource<LanguageAgent> = {
  resource: Langop.LanguageAgent,
  decode: decodeObject(LanguageAgent),
}

/**
 * Secrets, undecoded and without their values: existence, key names and resourceVersion are all that
 * controllers and the webhook read, so no Secret value is ever held in the operator's memory.
 */
export const secretSource: InformerSource<KubeObject> = {
  resource: Builtin.Secret,
  transform: withoutSecretValues,
}

/**
 * ConfigMaps the operator generates (they all carry the common labels). Objects outside the selector —
 * e.g. a user's ConfigMap with the name we want — are not cached: read them with a live GET on a miss.
 */
export const managedConfigMapSource: InformerSource<KubeObject> = {
  resource: Builtin.ConfigMap,
  labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
}

export const clientSource: InformerSource<LanguageClient> = {
  resource: Langop.LanguageClient,
  decode: decodeObject(LanguageClient),
}

export const clusterSource: InformerSource<LanguageCluster> = {
  resource: Langop.LanguageCluster,
  decode: decodeObject(LanguageCluster),
}

export const toolSource: InformerSource<LanguageTool> = {
  resource: Langop.LanguageTool,
  decode: decodeObject(LanguageTool),
}

export const modelSource: InformerSource<LanguageModel> = {
  resource: Langop.LanguageModel,
  decode: decodeObject(LanguageModel),
}

/** Namespaces, undecoded (LanguageCluster provisioning). */
export const namespaceSource: InformerSource<KubeObject> = { resource: Builtin.Namespace }

/** Every ConfigMap, undecoded: resourceVersions of ConfigMaps that pods read through env (config hash). */
export const configMapSource: InformerSource<KubeObject> = { resource: Builtin.ConfigMap }

/**
 * Objects of `resource` that the operator generates (common labels), undecoded. As with
 * {@link managedConfigMapSource}, a same-named object without our labels is not cached: GET it on a miss.
 */
export const managedSource = (resource: ResourceDescriptor): InformerSource<KubeObject> => ({
  resource,
  labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
})

export const managedDeploymentSource = managedSource(Builtin.Deployment)
export const managedServiceSource = managedSource(Builtin.Service)
export const managedPdbSource = managedSource(Builtin.PodDisruptionBudget)
export const managedHpaSource = managedSource(Builtin.HorizontalPodAutoscaler)
export const managedNetworkPolicySource = managedSource(Builtin.NetworkPolicy)
export const managedIngressSource = managedSource(Builtin.Ingress)
/** Pods of generated workloads (their templates carry the common labels): failure detection. */
export const managedPodSource = managedSource(Builtin.Pod)

/** Maps a Pod of `kind`'s generated workload to its owner's key (the common labels name it). */
export const podOwnerOf =
  (kind: string) =>
  (pod: KubeObject): ReadonlyArray<string> => {
    const labels = pod.metadata.labels ?? {}
    const name = labels[LABEL_NAME]
    return labels[LABEL_KIND] === kind && name !== undefined
      ? [keyOf({ namespace: pod.metadata.namespace ?? "", name })]
      : []
  }
