/**
 * LanguagePersona admission (docs/languagepersona.md §Admission, §Inheritance, §Validation, docs/languagepersona.md PE-2, docs/languagepersona.md PE-7).
 *
 * - Defaulting: `spec.parentPersona.namespace`; on a persona without `spec.parentPersona`, an empty
 *   `tone` / `language` become `professional` / `en` (defaults.ts), so children inherit theirs.
 * - Validation: the own-spec errors of `domain/languagepersona.ts` (shared with the
 *   controller, so both report the same messages) are denials, its own-spec warnings admission
 *   warnings; the new parent chain is walked through the existing personas with this object's new
 *   spec in place (`resolveChain`): a cycle or more than 10 ancestors is denied, a missing ancestor
 *   admitted with a warning; a missing knowledge-source Secret is a warning.
 * - DELETE: admitted; a warning names the personas inheriting from it and the agents using it.
 * Checks that need the effective persona or an ancestor's validity stay with the controller.
 */
import { Effect } from "effect"
import { LanguagePersona } from "../../api/languagepersona.ts"
import { ownSpecErrors, personaWarnings } from "../../domain/languagepersona.ts"
import { effectiveName, MAX_LABEL_LENGTH, quotedList } from "../../domain/names.ts"
import {
  type ChainResult,
  chainProblem,
  keyString,
  MAX_ANCESTORS,
  parentKeyOf,
  personaKeyOf,
  resolveChain,
} from "../../domain/persona-chain.ts"
import { CommonRules, defineRules, type Finding, finding, type Rule } from "../../domain/rules.ts"
import { applyDefaults } from "../defaults.ts"
import type { LookupError, WebhookLookupShape } from "../lookup.ts"
import {
  allFindings,
  checkReference,
  type DeleteInput,
  type KindAdmission,
  lookupFailed,
  type ValidationInput,
} from "./common.ts"

export const PersonaRules = defineRules("languagepersona", {
  nameLength: {
    severity: "deny",
    text: "metadata.name is at most 63 characters (the app.kubernetes.io/name label of its ConfigMap)",
  },
  ruleName: { severity: "deny", text: "rules[].name is not blank and unique" },
  ruleBlank: { severity: "deny", text: "rules[].condition and rules[].action are not blank" },
  knowledgeName: { severity: "deny", text: "knowledgeSources[].name is unique" },
  knowledgeUrl: {
    severity: "deny",
    text: "knowledge sources of type url and api have an absolute url",
  },
  responseSchema: { severity: "deny", text: "responseFormat.schema parses as JSON" },
  limits: {
    severity: "deny",
    text: "responseFormat.maxLength and constraints.maxResponseTokens are positive; constraints.maxToolCalls and maxKnowledgeQueries not negative",
  },
  ownSpec: { severity: "deny", text: "any other own-spec error of docs/languagepersona.md §Validation" },
  advice: {
    severity: "warn",
    text: "own-spec warnings of docs/languagepersona.md §Validation (examples, prompt length, BCP 47 language, …)",
  },
  circularInheritance: {
    severity: "deny",
    text: "the parent chain, with this object's new spec in place, has no cycle (CircularInheritance)",
  },
  inheritanceTooDeep: {
    severity: "deny",
    text: `the parent chain has at most ${MAX_ANCESTORS} ancestors (InheritanceTooDeep)`,
  },
  parentNotFound: {
    severity: "warn",
    text: "a missing ancestor is admitted (it may be created later; the status reports ParentNotFound)",
  },
  deleteInUse: {
    severity: "warn",
    text: "deleting a persona that other personas inherit from or agents use is admitted with a warning naming them (docs/languagepersona.md PE-7)",
  },
})

/** All rules this kind's webhook applies (`ownSpec` is only the fallback for errors validate.ts may add later). */
export const personaRuleCatalog = [
  ...Object.values(PersonaRules).filter((rule) => rule !== PersonaRules.ownSpec),
  ...Object.values(CommonRules),
]

const ruleForIssue = (path: string): Rule => {
  if (/^spec\.rules\[\d+\]\.name$/u.test(path)) return PersonaRules.ruleName
  if (/^spec\.rules\[\d+\]\.(condition|action)$/u.test(path)) return PersonaRules.ruleBlank
  if (/^spec\.knowledgeSources\[\d+\]\.name$/u.test(path)) return PersonaRules.knowledgeName
  if (/^spec\.knowledgeSources\[\d+\]\.url$/u.test(path)) return PersonaRules.knowledgeUrl
  if (/^spec\.knowledgeSources\[\d+\]\.secretRef\.namespace$/u.test(path)) return CommonRules.secretNamespace
  if (path === "spec.responseFormat.schema") return PersonaRules.responseSchema
  if (path === "spec.responseFormat.maxLength" || path.startsWith("spec.constraints."))
    return PersonaRules.limits
  return PersonaRules.ownSpec
}

/** Every own-spec rule (no other object needed). Pure. */
export const staticPersonaFindings = (
  persona: LanguagePersona,
  namespace: string,
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const name = effectiveName(persona.metadata)
  if (name !== undefined && name.length > MAX_LABEL_LENGTH)
    out.push(finding(PersonaRules.nameLength, "metadata.name", `"${name}" is longer than 63 characters`))
  for (const issue of ownSpecErrors(persona.spec, namespace))
    out.push(finding(ruleForIssue(issue.path), issue.path, issue.message))
  for (const issue of personaWarnings(persona.spec))
    out.push(finding(PersonaRules.advice, issue.path, issue.message))
  return out
}

/**
 * Walks the parent chain of `persona` (its new spec in place of any stored version) through the
 * lookup, then resolves it. At most `MAX_ANCESTORS + 1` lookups; a failed one ends the walk.
 */
export const walkParentChain = (
  persona: LanguagePersona,
  lookup: WebhookLookupShape,
): Effect.Effect<ChainResult<LanguagePersona> | LookupError> =>
  Effect.gen(function* () {
    const known = new Map([[keyString(personaKeyOf(persona)), persona]])
    let current = persona
    for (let step = 0; step <= MAX_ANCESTORS; step++) {
      const parent = parentKeyOf(current)
      if (parent === undefined || known.has(keyString(parent))) break
      const found = yield* Effect.result(lookup.persona(parent.namespace, parent.name))
      if (found._tag === "Failure") return found.failure
      if (found.success === undefined) break
      known.set(keyString(parent), found.success)
      current = found.success
    }
    return resolveChain(persona, (key) => known.get(keyString(key)))
  })

const inheritanceFindings = (
  persona: LanguagePersona,
  lookup: WebhookLookupShape,
): Effect.Effect<ReadonlyArray<Finding>> => {
  if (persona.spec.parentPersona === undefined) return Effect.succeed([])
  return Effect.map(walkParentChain(persona, lookup), (result): ReadonlyArray<Finding> => {
    if (result._tag === "LookupError") return [lookupFailed(["spec", "parentPersona"], result)]
    if (result._tag === "Resolved") return []
    const { message } = chainProblem(result)
    switch (result._tag) {
      case "Cycle":
        return [finding(PersonaRules.circularInheritance, "spec.parentPersona", message)]
      case "TooDeep":
        return [finding(PersonaRules.inheritanceTooDeep, "spec.parentPersona", message)]
      case "ParentNotFound":
        return [
          finding(PersonaRules.parentNotFound, "spec.parentPersona", `${message} (it may be created later)`),
        ]
    }
  })
}

export const validatePersona = (
  input: ValidationInput<LanguagePersona>,
): Effect.Effect<ReadonlyArray<Finding>> => {
  const { object: persona, namespace, lookup } = input
  const secrets = (persona.spec.knowledgeSources ?? []).flatMap((source, i) => {
    const ref = source.secretRef
    if (
      ref === undefined ||
      (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace)
    )
      return []
    return [
      checkReference(
        lookup.secret(namespace, ref.name),
        ["spec", "knowledgeSources", i, "secretRef"],
        `knowledge source "${source.name}": Secret "${namespace}/${ref.name}"`,
      ),
    ]
  })
  return Effect.map(allFindings([inheritanceFindings(persona, lookup), ...secrets]), (referential) => [
    ...staticPersonaFindings(persona, namespace),
    ...referential,
  ])
}

const keyOf = (object: { readonly metadata: { readonly name?: string; readonly namespace?: string } }) =>
  `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`

/** DELETE: admitted; warns about the personas inheriting from it and the agents using it (docs/languagepersona.md PE-7). */
export const validatePersonaDelete = (
  input: DeleteInput<LanguagePersona>,
): Effect.Effect<ReadonlyArray<Finding>> => {
  const name = input.oldObject.metadata.name ?? ""
  const self = `${input.namespace}/${name}`
  const children = Effect.map(input.lookup.personasInheritingFrom(input.namespace, name), (personas) => {
    const keys = personas.map(keyOf).filter((k) => k !== self)
    return keys.length === 0
      ? []
      : [
          finding(
            PersonaRules.deleteInUse,
            "",
            `LanguagePersona "${self}" is the parent of ${quotedList(keys)}; they will report ParentNotFound`,
          ),
        ]
  })
  const agents = Effect.map(input.lookup.agentsUsingPersona(input.namespace, name), (list) => {
    const keys = list.map(keyOf)
    return keys.length === 0
      ? []
      : [
          finding(
            PersonaRules.deleteInUse,
            "",
            `LanguagePersona "${self}" is used by agents ${quotedList(keys)}; they will report PersonaNotFound`,
          ),
        ]
  })
  const safely = (effect: Effect.Effect<ReadonlyArray<Finding>, LookupError>) =>
    Effect.catch(effect, (error) => Effect.succeed([lookupFailed([], error)]))
  return allFindings([safely(children), safely(agents)])
}

export const personaAdmission: KindAdmission<typeof LanguagePersona> = {
  kind: "LanguagePersona",
  schema: LanguagePersona,
  mutate: (object, namespace) => applyDefaults("LanguagePersona", object, namespace),
  validate: validatePersona,
  validateDelete: validatePersonaDelete,
}
