/**
 * The persona ConfigMap `<name>-persona` (docs/languagepersona.md §ConfigMap). PURE.
 *
 * Content: the keys computed from the persona's OWN spec (`persona.json`, `displayName`,
 * `description`, `systemPrompt`, `tone` / `language` when set, `instructions.json` when non-empty) plus
 * `effective.json` and `prompt` (§Rendering with empty agent instructions) when the chain resolves.
 * Guarantees: deterministic bytes (sorted keys, canonical JSON); "up to date" compares only what we own —
 * our data keys (present or absent), our labels, our controller reference — so keys or labels added by
 * others never cause a write, and a key we stopped producing is removed by the next apply.
 */
import type { LanguagePersona } from "../../api/languagepersona.ts"
import { commonLabels, sortedRecord } from "../../domain/labels.ts"
import type { EffectivePersona } from "../../domain/persona-chain.ts"
import { controllerRef, type OwnerRef, ownershipOf } from "../common/ownership.ts"
import { personaJson, renderPersonaPrompt } from "./render.ts"

/** Every data key the persona ConfigMap may carry (a key we no longer want is removed by re-applying). */
export const CONFIGMAP_KEYS = [
  "persona.json",
  "displayName",
  "description",
  "systemPrompt",
  "tone",
  "language",
  "instructions.json",
  "effective.json",
  "prompt",
] as const

export const configMapName = (personaName: string): string => `${personaName}-persona`

/** The live ConfigMap as far as decisions read it. */
export interface LiveConfigMap {
  readonly metadata: {
    readonly uid?: string
    readonly labels?: Readonly<Record<string, string>>
    readonly ownerReferences?: ReadonlyArray<{
      readonly controller?: boolean
      readonly uid: string
      readonly kind: string
      readonly name: string
    }>
  }
  readonly data?: Readonly<Record<string, string>>
}

export interface DesiredConfigMap {
  readonly apiVersion: "v1"
  readonly kind: "ConfigMap"
  readonly metadata: {
    readonly name: string
    readonly namespace: string
    readonly labels: Readonly<Record<string, string>>
    readonly ownerReferences: ReadonlyArray<OwnerRef>
  }
  readonly data: Readonly<Record<string, string>>
}

export type ConfigMapAction =
  | { readonly _tag: "Apply"; readonly object: DesiredConfigMap }
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Conflict"; readonly message: string }

/** Keys from the OWN spec (docs/languagepersona.md §ConfigMap), plus `effective.json` and `prompt` when the chain resolves. */
export const configMapData = (
  persona: LanguagePersona,
  effective: EffectivePersona | undefined,
): Readonly<Record<string, string>> => {
  const s = persona.spec
  const instructions = s.instructions ?? []
  return sortedRecord({
    "persona.json": personaJson(s),
    displayName: s.displayName,
    description: s.description,
    systemPrompt: s.systemPrompt,
    ...(s.tone !== undefined ? { tone: s.tone } : {}),
    ...(s.language !== undefined && s.language !== "" ? { language: s.language } : {}),
    ...(instructions.length > 0 ? { "instructions.json": JSON.stringify(instructions) } : {}),
    ...(effective !== undefined
      ? { "effective.json": personaJson(effective), prompt: renderPersonaPrompt(effective) }
      : {}),
  })
}

export const desiredConfigMap = (
  persona: LanguagePersona,
  effective: EffectivePersona | undefined,
): DesiredConfigMap => {
  const name = persona.metadata.name ?? ""
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: configMapName(name),
      namespace: persona.metadata.namespace ?? "",
      labels: commonLabels("LanguagePersona", name),
      ownerReferences: [controllerRef(persona)],
    },
    data: configMapData(persona, effective),
  }
}

/** Equal on the fields we own: our data keys (present or absent), our labels, our controller reference. */
const configMapUpToDate = (live: LiveConfigMap, desired: DesiredConfigMap): boolean => {
  const data = live.data ?? {}
  const labels = live.metadata.labels ?? {}
  const uid = desired.metadata.ownerReferences[0]?.uid
  return (
    CONFIGMAP_KEYS.every((k) => data[k] === desired.data[k]) &&
    Object.entries(desired.metadata.labels).every(([k, v]) => labels[k] === v) &&
    (live.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid)
  )
}

/** Apply, leave alone, or refuse (NameConflict) — never overwriting a ConfigMap another object controls. */
export const decideConfigMap = (
  persona: LanguagePersona,
  live: LiveConfigMap | undefined,
  effective: EffectivePersona | undefined,
): ConfigMapAction => {
  const desired = desiredConfigMap(persona, effective)
  const ownership = ownershipOf(live, persona.metadata.uid ?? "")
  if (ownership._tag === "Foreign")
    return {
      _tag: "Conflict",
      message: `ConfigMap "${desired.metadata.name}" is controlled by ${ownership.kind} "${ownership.name}"; rename or delete it`,
    }
  if (live !== undefined && configMapUpToDate(live, desired)) return { _tag: "Unchanged" }
  return { _tag: "Apply", object: desired }
}
