/**
 * LanguagePersona decisions (languagepersona.md §Reconcile sequence, §Validation, §ConfigMap, §Usage,
 * §Status, §Conditions). PURE: one gathered input → finalizer, ConfigMap, status and events.
 *
 * Guarantees: with nothing changed, `decide` returns `configMap: Unchanged` and `statusChanged: false`
 * (no write); `validationTime` changes only when the validation result changes, `lastUpdateTime` only
 * when another status field changes, condition `lastTransitionTime` only on a status flip; the phase is
 * always in the kind's enum; the ConfigMap content depends only on the persona and its ancestors.
 */
import type { LanguagePersona, LanguagePersonaStatus, ValidationResult } from "../../api/languagepersona.ts"
import type { Condition } from "../../api/shared.ts"
import { type ConditionInput, findCondition, setConditions } from "../common/conditions.ts"
import { canonicalJson } from "../common/hash.ts"
import { commonLabels, FINALIZER, sortedRecord } from "../common/labels.ts"
import { controllerRef, type OwnerRef, ownershipOf } from "../common/ownership.ts"
import { personaJson, renderPersonaPrompt } from "./render.ts"
import {
  type ChainResult,
  chainProblem,
  type EffectivePersona,
  keyString,
  parentKeyOf,
  personaKeyOf,
} from "./resolve.ts"
import {
  missingSecretWarnings,
  ownSpecErrors,
  parentInvalidErrors,
  personaWarnings,
  qualityScore,
  type ValidationIssue,
} from "./validate.ts"

export const Reasons = {
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  ValidationFailed: "ValidationFailed",
  ParentNotFound: "ParentNotFound",
  ConfigMapError: "ConfigMapError",
  NameConflict: "NameConflict",
  Valid: "Valid",
  NoParent: "NoParent",
  Resolved: "Resolved",
  CircularInheritance: "CircularInheritance",
  InheritanceTooDeep: "InheritanceTooDeep",
  ParentInvalid: "ParentInvalid",
} as const

export const READY_MESSAGE = "Persona configuration is ready"

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

export interface PersonaInput {
  readonly persona: LanguagePersona
  readonly chain: ChainResult<LanguagePersona>
  /** The ConfigMap `<name>-persona` as it exists (any owner), or undefined. */
  readonly configMap: LiveConfigMap | undefined
  /** Agents whose personaRef resolves to this persona, as `<namespace>/<name>` (any order). */
  readonly agents: ReadonlyArray<string>
  /** Whether a Secret of this name exists in the persona's namespace. */
  readonly secretExists: (name: string) => boolean
  /** RFC 3339, seconds precision. */
  readonly now: string
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

export type ConfigMapOutcome =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Conflict"; readonly message: string }
  | { readonly _tag: "Failed"; readonly message: string }

export interface PersonaEvent {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface StatusDecision {
  /** The whole status the operator owns (metrics excluded). */
  readonly status: LanguagePersonaStatus
  /** False when `status` equals what was read: no write. */
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<PersonaEvent>
  /** Waiting for something that may appear (a parent persona, a conflicting ConfigMap going away). */
  readonly waiting: boolean
}

export interface PersonaDecision extends StatusDecision {
  readonly addFinalizer: boolean
  readonly configMap: ConfigMapAction
}

// ---------------------------------------------------------------------------------------------------------
// Validation and inheritance

interface Evaluation {
  readonly effective: EffectivePersona | undefined
  readonly errors: ReadonlyArray<ValidationIssue>
  readonly warnings: ReadonlyArray<ValidationIssue>
  readonly parent: ConditionInput
}

const evaluate = (input: PersonaInput): Evaluation => {
  const { persona, chain } = input
  const self = personaKeyOf(persona)
  const own = ownSpecErrors(persona.spec, self.namespace)
  const secrets = missingSecretWarnings(persona.spec, input.secretExists)
  const parentCondition = (status: "True" | "False", reason: string, message: string): ConditionInput => ({
    type: "ParentResolved",
    status,
    reason,
    message,
  })
  if (chain._tag !== "Resolved") {
    const problem = chainProblem(chain)
    const chainErrors =
      chain._tag === "ParentNotFound" ? [] : [{ path: "spec.parentPersona", message: problem.message }]
    return {
      effective: undefined,
      errors: [...chainErrors, ...own],
      warnings: [...personaWarnings(persona.spec), ...secrets],
      parent: parentCondition("False", problem.reason, problem.message),
    }
  }
  const ancestors = chain.chain.slice(0, -1)
  const invalidAncestors = parentInvalidErrors(ancestors)
  const parentKey = parentKeyOf(persona)
  const firstInvalid = invalidAncestors[0]
  const parent =
    firstInvalid !== undefined
      ? parentCondition("False", Reasons.ParentInvalid, firstInvalid.message)
      : parentKey === undefined
        ? parentCondition("True", Reasons.NoParent, "Persona has no parent")
        : parentCondition(
            "True",
            Reasons.Resolved,
            `Inherits from "${keyString(parentKey)}"; chain: ${[...chain.chain]
              .reverse()
              .map((p) => keyString(personaKeyOf(p)))
              .join(" -> ")}`,
          )
  return {
    effective: chain.effective,
    errors: [...invalidAncestors, ...own],
    warnings: [...personaWarnings(chain.effective), ...secrets],
    parent,
  }
}

// ---------------------------------------------------------------------------------------------------------
// ConfigMap

/** Keys of the original from the OWN spec, plus `effective.json` and `prompt` when the chain resolves. */
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

const decideConfigMap = (input: PersonaInput, effective: EffectivePersona | undefined): ConfigMapAction => {
  const desired = desiredConfigMap(input.persona, effective)
  const ownership = ownershipOf(input.configMap, input.persona.metadata.uid ?? "")
  if (ownership._tag === "Foreign")
    return {
      _tag: "Conflict",
      message: `ConfigMap "${desired.metadata.name}" is controlled by ${ownership.kind} "${ownership.name}"; rename or delete it`,
    }
  if (input.configMap !== undefined && configMapUpToDate(input.configMap, desired))
    return { _tag: "Unchanged" }
  return { _tag: "Apply", object: desired }
}

// ---------------------------------------------------------------------------------------------------------
// Status

const sameResult = (a: ValidationResult | undefined, b: ValidationResult): boolean =>
  a !== undefined &&
  canonicalJson({ ...a, validationTime: undefined }) === canonicalJson({ ...b, validationTime: undefined })

/** The part of a live status the operator owns (metrics are runtime-reported; lastUpdateTime follows the rest). */
const ownedPart = (s: LanguagePersonaStatus | undefined): unknown => {
  if (s === undefined) return {}
  const { metrics: _m, lastUpdateTime: _t, ...rest } = s
  return rest
}

export const decideStatus = (input: PersonaInput, outcome: ConfigMapOutcome): StatusDecision => {
  const { persona, now } = input
  const live = persona.status
  const generation = persona.metadata.generation
  const ev = evaluate(input)
  const errors = ev.errors.map((e) => e.message)
  const warnings = ev.warnings.map((w) => w.message)
  const result: ValidationResult = {
    valid: errors.length === 0,
    errors,
    warnings,
    score: qualityScore(errors.length, warnings.length),
  }
  const validationResult: ValidationResult = {
    ...result,
    validationTime: sameResult(live?.validationResult, result)
      ? (live?.validationResult?.validationTime ?? now)
      : now,
  }

  const [firstError] = errors
  const validated: ConditionInput =
    firstError === undefined
      ? {
          type: "Validated",
          status: "True",
          reason: Reasons.Valid,
          message:
            warnings.length === 0
              ? "Persona is valid"
              : `Persona is valid with ${warnings.length} warning(s); first: ${warnings[0]}`,
        }
      : { type: "Validated", status: "False", reason: Reasons.ValidationFailed, message: firstError }

  const reconciled: ConditionInput =
    outcome._tag === "Ok"
      ? {
          type: "Reconciled",
          status: "True",
          reason: Reasons.ReconcileSuccess,
          message: `ConfigMap "${configMapName(persona.metadata.name ?? "")}" is up to date`,
        }
      : { type: "Reconciled", status: "False", reason: Reasons.ReconcileError, message: outcome.message }

  const parentMissing = input.chain._tag === "ParentNotFound"
  const ready: ConditionInput & { readonly phase: "Ready" | "NotReady" | "Error" } =
    firstError !== undefined
      ? {
          type: "Ready",
          status: "False",
          reason: Reasons.ValidationFailed,
          message: firstError,
          phase: "Error",
        }
      : parentMissing
        ? {
            type: "Ready",
            status: "False",
            reason: Reasons.ParentNotFound,
            message: ev.parent.message,
            phase: "NotReady",
          }
        : outcome._tag === "Conflict"
          ? {
              type: "Ready",
              status: "False",
              reason: Reasons.NameConflict,
              message: outcome.message,
              phase: "NotReady",
            }
          : outcome._tag === "Failed"
            ? {
                type: "Ready",
                status: "False",
                reason: Reasons.ConfigMapError,
                message: outcome.message,
                phase: "NotReady",
              }
            : {
                type: "Ready",
                status: "True",
                reason: Reasons.ReconcileSuccess,
                message: READY_MESSAGE,
                phase: "Ready",
              }

  const { phase, ...readyCondition } = ready
  const conditions: ReadonlyArray<Condition> = setConditions(
    live?.conditions,
    [ev.parent, validated, reconciled, readyCondition],
    generation,
    now,
  )
  const activeAgents = [...new Set(input.agents)].sort()
  const succeeded = outcome._tag !== "Failed"
  const observedGeneration = succeeded ? generation : live?.observedGeneration
  const owned: LanguagePersonaStatus = {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    phase,
    conditions,
    usageCount: activeAgents.length,
    activeAgents,
    validationResult,
    message: readyCondition.message,
    reason: readyCondition.reason,
  }
  const statusChanged = canonicalJson(ownedPart(live)) !== canonicalJson(owned)
  const status: LanguagePersonaStatus = {
    ...owned,
    ...(statusChanged
      ? { lastUpdateTime: now }
      : live?.lastUpdateTime !== undefined
        ? { lastUpdateTime: live.lastUpdateTime }
        : {}),
  }

  const before = findCondition(live?.conditions, "Ready")
  const events: Array<PersonaEvent> =
    before?.status === readyCondition.status && before.reason === readyCondition.reason
      ? []
      : [
          readyCondition.status === "True"
            ? { type: "Normal", reason: "Ready", note: READY_MESSAGE }
            : { type: "Warning", reason: readyCondition.reason, note: readyCondition.message },
        ]
  return { status, statusChanged, events, waiting: parentMissing || outcome._tag === "Conflict" }
}

export const decide = (input: PersonaInput): PersonaDecision => {
  const effective = input.chain._tag === "Resolved" ? input.chain.effective : undefined
  const configMap = decideConfigMap(input, effective)
  const outcome: ConfigMapOutcome = configMap._tag === "Conflict" ? configMap : { _tag: "Ok" }
  return {
    addFinalizer: !(input.persona.metadata.finalizers ?? []).includes(FINALIZER),
    configMap,
    ...decideStatus(input, outcome),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Deletion

export interface CleanupDecision {
  /** Delete the ConfigMap (it exists and is ours); its uid is the delete precondition. */
  readonly deleteConfigMap: { readonly uid: string } | undefined
  readonly removeFinalizer: boolean
}

/** Deleted persona: remove our ConfigMap (never someone else's), then our finalizer. */
export const decideCleanup = (
  persona: LanguagePersona,
  configMap: LiveConfigMap | undefined,
): CleanupDecision => {
  const ours = ownershipOf(configMap, persona.metadata.uid ?? "")._tag === "Ours"
  const uid = configMap?.metadata.uid
  return {
    deleteConfigMap: ours && uid !== undefined ? { uid } : undefined,
    removeFinalizer: (persona.metadata.finalizers ?? []).includes(FINALIZER),
  }
}
