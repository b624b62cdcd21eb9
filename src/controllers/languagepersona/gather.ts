/**
 * Gathers everything one LanguagePersona reconcile needs into one value, from the informer caches.
 *
 * Guarantees: reads only caches, except a live GET when the persona or its ConfigMap is not cached (the
 * ConfigMap cache holds only operator-labelled ConfigMaps, so a user's ConfigMap with our name is found by
 * that GET and reported as a NameConflict instead of being overwritten). Ancestors are read from the
 * persona cache (their specs, never their status), so reconcile order does not matter.
 * Assumption: the caches are synced (the controller runner waits for that before the first reconcile).
 */
import { Clock, Effect, Result } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { LanguagePersona } from "../../api/languagepersona.ts"
import { keyString, parentKeyOf, resolveChain } from "../../domain/persona-chain.ts"
import { KubeClient } from "../../kube/client.ts"
import { decodeObject } from "../../kube/decode.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import { agentSource, managedConfigMapSource, personaSource, secretSource } from "../../runtime/sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import { configMapName, type LiveConfigMap } from "./configmap.ts"
import type { PersonaInput } from "./decide.ts"

// ---------------------------------------------------------------------------------------------------------
// Sources with this controller's indexes

/** Personas by the `ns/name` of their parent (namespace defaulted): "who inherits from P". */
export const PARENT_INDEX = "languagepersona/parent"
/** Personas by `ns/name` of the Secrets their own knowledge sources reference. */
export const SECRET_INDEX = "languagepersona/secret"
/** Agents by the `ns/name` their `spec.personaRef` resolves to. */
export const PERSONA_REF_INDEX = "languagepersona/personaRef"

const parentIndex = (p: LanguagePersona): ReadonlyArray<string> => {
  const parent = parentKeyOf(p)
  return parent === undefined ? [] : [keyString(parent)]
}

const secretIndex = (p: LanguagePersona): ReadonlyArray<string> =>
  (p.spec.knowledgeSources ?? []).flatMap((k) =>
    k.secretRef === undefined ? [] : [`${p.metadata.namespace ?? ""}/${k.secretRef.name}`],
  )

/** `ns/name` of the persona an agent references (namespace defaults to the agent's), if any. */
export const agentPersonaKey = (agent: LanguageAgent): string | undefined => {
  const ref = agent.spec.personaRef
  if (ref === undefined || ref.name === "") return undefined
  const namespace =
    ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : agent.metadata.namespace
  return `${namespace ?? ""}/${ref.name}`
}

const personaRefIndex = (agent: LanguageAgent): ReadonlyArray<string> => {
  const key = agentPersonaKey(agent)
  return key === undefined ? [] : [key]
}

export const personas: InformerSource<LanguagePersona> = {
  ...personaSource,
  indexers: { [PARENT_INDEX]: parentIndex, [SECRET_INDEX]: secretIndex },
}

export const agents: InformerSource<LanguageAgent> = {
  ...agentSource,
  indexers: { [PERSONA_REF_INDEX]: personaRefIndex },
}

// ---------------------------------------------------------------------------------------------------------
// Gather

export type Gathered =
  | { readonly _tag: "Gone" }
  | {
      readonly _tag: "Deleting"
      readonly persona: LanguagePersona
      readonly configMap: KubeObject | undefined
    }
  | { readonly _tag: "Live"; readonly input: PersonaInput }

const decodePersona = decodeObject(LanguagePersona)

export const gather = Effect.fn("languagepersona.gather")(function* (req: ReconcileRequest) {
  const informers = yield* Informers
  const kube = yield* KubeClient
  const personaCache = informers.cache(personas)

  let persona = personaCache.getByName(req.namespace, req.name)
  if (persona === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguagePersona, req))
    if (raw === undefined) return { _tag: "Gone" } satisfies Gathered
    const decoded = decodePersona(raw)
    if (Result.isFailure(decoded)) {
      // The informer reports undecodable objects (Warning Event InvalidObject); nothing to reconcile.
      yield* Effect.logWarning("persona does not decode", { problems: decoded.failure })
      return { _tag: "Gone" } satisfies Gathered
    }
    persona = decoded.success
  }

  const cmName = configMapName(req.name)
  const configMap =
    informers.cache(managedConfigMapSource).getByName(req.namespace, cmName) ??
    (yield* orUndefinedOnNotFound(kube.get(Builtin.ConfigMap, { namespace: req.namespace, name: cmName })))

  if (persona.metadata.deletionTimestamp !== undefined)
    return { _tag: "Deleting", persona, configMap } satisfies Gathered

  const chain = resolveChain(persona, (k) => personaCache.getByName(k.namespace, k.name))
  const agentKeys = informers.cache(agents).keysByIndex(PERSONA_REF_INDEX, `${req.namespace}/${req.name}`)
  const secrets = informers.cache(secretSource)
  const now = rfc3339(yield* Clock.currentTimeMillis)
  const input: PersonaInput = {
    persona,
    chain,
    configMap: configMap as LiveConfigMap | undefined,
    agents: agentKeys,
    secretExists: (name) => secrets.getByName(req.namespace, name) !== undefined,
    now,
  }
  return { _tag: "Live", input } satisfies Gathered
})
