/**
 * LanguagePersona decisions (docs/languagepersona.md §Reconcile sequence, §Validation, §ConfigMap, §Usage,
 * §Status, §Conditions). PURE: one gathered input → finalizer, ConfigMap, status and events.
 *
 * Guarantees: with nothing changed, `decide` returns `configMap: Unchanged` and `statusChanged: false`
 * (no write); `validationTime` changes only when the validation result changes, `lastUpdateTime` only
 * when another status field changes, condition `lastTransitionTime` only on a status flip; the phase is
 * always in the kind's enum; the ConfigMap content depends only on the persona and its ancestors.
 */
import type { LanguagePersona, LanguagePersonaStatus, ValidationResult } from "../../api/languagepersona.ts"
import type { Condition } from "../../api/shared.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { FINALIZER } from "../../domain/labels.ts"
import {
  missingSecretWarnings,
  ownSpecErrors,
  parentInvalidErrors,
  personaWarnings,
  qualityScore,
  type ValidationIssue,
} from "../../domain/languagepersona.ts"
import {
  type ChainResult,
  chainProblem,
  type EffectivePersona,
  keyString,
  parentKeyOf,
  personaKeyOf,
} from "../../domain/persona-chain.ts"
import { type ConditionInput, findCondition, setConditions } from "../common/conditions.ts"
import { ownershipOf } from "../common/ownership.ts"
import { type ConfigMapAction, configMapName, decideConfigMap, type LiveConfigMap } from "./configmap.ts"

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
  const configMap = decideConfigMap(input.persona, input.configMap, effective)
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
