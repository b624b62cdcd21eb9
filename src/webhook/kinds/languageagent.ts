/**
 * LanguageAgent admission: defaulting (the reference namespaces of `defaults.ts`: models, tools,
 * persona, egress Services; nothing else, no workspace, no schedule) and validation = the static rules
 * of `src/domain/languageagent.ts` (shared with the controller) plus the rules that read other objects
 * through the lookup: missing models, tools, persona and memory Secret are warnings; an enabled, not
 * blocked tool in another namespace that exists in sidecar mode is denied (a sidecar runs in the
 * agent's Pod, which cannot reach into another namespace).
 */
import { Effect } from "effect"
import { LanguageAgent } from "../../api/languageagent.ts"
import { AgentRules, staticAgentFindings } from "../../domain/languageagent.ts"
import { type Finding, finding, nsOr } from "../../domain/rules.ts"
import { applyDefaults } from "../defaults.ts"
import { allFindings, checkReference, type KindAdmission, type ValidationInput } from "./common.ts"

/** The rules that read other objects: missing references (warnings) and docs/concepts.md X-5. */
export const agentReferenceFindings = (
  input: ValidationInput<LanguageAgent>,
): Effect.Effect<ReadonlyArray<Finding>> => {
  const { object: agent, namespace, lookup } = input
  const spec = agent.spec
  const blocked = new Set(spec.safetyConfig?.blockedTools ?? [])
  const models = spec.modelRefs.map((ref, i) => {
    const ns = nsOr(ref, namespace)
    return checkReference(
      lookup.model(ns, ref.name),
      ["spec", "modelRefs", i],
      `LanguageModel "${ns}/${ref.name}"`,
    )
  })
  const tools = (spec.toolRefs ?? []).flatMap((ref, i) => {
    if (!ref.enabled) return []
    const ns = nsOr(ref, namespace)
    const path = ["spec", "toolRefs", i]
    return [
      checkReference(lookup.tool(ns, ref.name), path, `LanguageTool "${ns}/${ref.name}"`, (tool) =>
        ns !== namespace && !blocked.has(ref.name) && tool.spec.deploymentMode === "sidecar"
          ? [
              finding(
                AgentRules.crossNamespaceSidecar,
                path,
                `LanguageTool "${ns}/${ref.name}" runs in sidecar mode; a sidecar tool must be in the agent's namespace ("${namespace}")`,
              ),
            ]
          : [],
      ),
    ]
  })
  const persona =
    spec.personaRef === undefined
      ? []
      : [
          checkReference(
            lookup.persona(nsOr(spec.personaRef, namespace), spec.personaRef.name),
            ["spec", "personaRef"],
            `LanguagePersona "${nsOr(spec.personaRef, namespace)}/${spec.personaRef.name}"`,
          ),
        ]
  const secretRef = spec.memoryStore?.type === "ephemeral" ? undefined : spec.memoryStore?.connectionSecretRef
  const secret =
    secretRef === undefined || nsOr(secretRef, namespace) !== namespace
      ? []
      : [
          checkReference(
            lookup.secret(namespace, secretRef.name),
            ["spec", "memoryStore", "connectionSecretRef"],
            `Secret "${namespace}/${secretRef.name}"`,
          ),
        ]
  return allFindings([...models, ...tools, ...persona, ...secret])
}

export const validateAgent = (input: ValidationInput<LanguageAgent>): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.map(agentReferenceFindings(input), (references) => [
    ...staticAgentFindings(input.object, input.namespace),
    ...references,
  ])

export const agentAdmission: KindAdmission<typeof LanguageAgent> = {
  kind: "LanguageAgent",
  schema: LanguageAgent,
  mutate: (object, namespace) => applyDefaults("LanguageAgent", object, namespace),
  validate: validateAgent,
}
