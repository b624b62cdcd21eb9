/**
 * The LanguagePersona controller (docs/languagepersona.md): gather → decide → act.
 *
 * Triggers: the persona itself; its ConfigMap `<name>-persona` (owned, so drift is repaired); a spec
 * change, creation or deletion of any ancestor (personas indexed by parent, followed recursively to every
 * descendant); a LanguageAgent whose old or new `spec.personaRef` points at it (usage tracking); creation
 * or deletion of a Secret its own knowledge sources reference (the missing-Secret warning).
 */
import { Effect } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { LanguagePersona } from "../../api/languagepersona.ts"
import { keyString, personaKeyOf } from "../../domain/persona-chain.ts"
import { type KubeObject, objectKey } from "../../kube/objects.ts"
import type { CacheReader } from "../../runtime/cache.ts"
import {
  defineController,
  type EventPredicate,
  Predicates,
  Reconciled,
  type ReconcileRequest,
  watches,
} from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import type { InformersShape } from "../../runtime/informers.ts"
import { managedConfigMapSource, secretSource } from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import { decide, decideCleanup } from "./decide.ts"
import { agentPersonaKey, agents, gather, PARENT_INDEX, personas, SECRET_INDEX } from "./gather.ts"

export const CONTROLLER_NAME = "languagepersona"

/** Every persona that inherits from `persona`, directly or through others (cycles stop the walk). */
export const descendantsOf = (
  cache: CacheReader<LanguagePersona>,
  persona: LanguagePersona,
): ReadonlyArray<string> => {
  const start = keyString(personaKeyOf(persona))
  const seen = new Set([start])
  const out: Array<string> = []
  const queue = [start]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const key of cache.keysByIndex(PARENT_INDEX, next)) {
      if (seen.has(key)) continue
      seen.add(key)
      out.push(key)
      queue.push(key)
    }
  }
  return out
}

/** Keys of the objects of `source` whose persona (index `index`) is `persona` or inherits from it. */
export const referrersOfPersona =
  <T>(source: InformerSource<T>, index: string) =>
  (persona: LanguagePersona, informers: InformersShape): ReadonlyArray<string> => {
    const personaKeys = [
      objectKey(persona as unknown as KubeObject),
      ...descendantsOf(informers.cache(personas), persona),
    ]
    return [...new Set(personaKeys.flatMap((k) => informers.cache(source).keysByIndex(index, k)))]
  }

/** Agent events matter for usage only when the referenced persona may have changed. */
const personaRefChanged: EventPredicate<LanguageAgent> = (ev) =>
  ev.type !== "update" || ev.old === undefined || agentPersonaKey(ev.old) !== agentPersonaKey(ev.obj)

/** A Secret matters only by its existence. */
const secretAppearedOrVanished: EventPredicate<unknown> = (ev) => ev.type !== "update"

export const reconcilePersona = (req: ReconcileRequest, options: ActOptions) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req)
    switch (gathered._tag) {
      case "Gone":
        return Reconciled.done
      case "Deleting":
        return yield* cleanup(gathered.persona, decideCleanup(gathered.persona, gathered.configMap), options)
      case "Live":
        return yield* act(gathered.input, decide(gathered.input), options)
    }
  })

export const languagePersonaController = (options: ActOptions) =>
  defineController({
    name: CONTROLLER_NAME,
    for: personas,
    owns: [managedConfigMapSource],
    watches: [
      watches(
        personas,
        (p, informers) => descendantsOf(informers.cache(personas), p),
        Predicates.generationChanged,
      ),
      watches(
        agents,
        (agent) => {
          const key = agentPersonaKey(agent)
          return key === undefined ? [] : [key]
        },
        personaRefChanged,
      ),
      watches(
        secretSource,
        (secret, informers) => informers.cache(personas).keysByIndex(SECRET_INDEX, objectKey(secret)),
        secretAppearedOrVanished,
      ),
    ],
    reconcile: (req) => reconcilePersona(req, options),
  })

export const languagePersonaControllerFromSettings = (
  settings: Pick<SettingsShape, "fieldManager" | "dependencyWaitRequeue">,
) =>
  languagePersonaController({
    fieldManager: settings.fieldManager,
    dependencyWait: settings.dependencyWaitRequeue,
  })

export type { ActOptions } from "./act.ts"
