/**
 * LanguageClient admission: defaulting (the namespaces of `modelRefs[]`, `regions[].modelRefs[]`,
 * `toolRefs[]`, `personaRef`, `agentRefs[]`, see defaults.ts; `contentModeration.customFilters[].action`
 * is not filled in) and validation = the static rules of `src/domain/languageclient.ts` (shared with
 * the controller) plus lookups: missing models, tools, agents, persona and Secrets are warnings, and so
 * is a sidecar-mode tool (clients never get sidecars).
 */
import { Effect } from "effect"
import { LanguageClient } from "../../api/languageclient.ts"
import { ClientRules, staticClientFindings } from "../../domain/languageclient.ts"
import { type FieldPath, type Finding, finding, nsOr } from "../../domain/rules.ts"
import { applyDefaults } from "../defaults.ts"
import { allFindings, checkReference, type KindAdmission, type ValidationInput } from "./common.ts"

/** Missing references (warnings) and sidecar-mode tools. */
export const clientReferenceFindings = (
  input: ValidationInput<LanguageClient>,
): Effect.Effect<ReadonlyArray<Finding>> => {
  const { object: client, namespace, lookup } = input
  const spec = client.spec
  const model = (ref: { readonly name: string; readonly namespace?: string | undefined }, path: FieldPath) =>
    checkReference(
      lookup.model(nsOr(ref, namespace), ref.name),
      path,
      `LanguageModel "${nsOr(ref, namespace)}/${ref.name}"`,
    )
  const models = [
    ...spec.modelRefs.map((ref, i) => model(ref, ["spec", "modelRefs", i])),
    ...(spec.regions ?? []).flatMap((region, r) =>
      (region.modelRefs ?? []).map((ref, i) => model(ref, ["spec", "regions", r, "modelRefs", i])),
    ),
  ]
  const tools = (spec.toolRefs ?? []).flatMap((ref, i) => {
    if (!ref.enabled) return []
    const ns = nsOr(ref, namespace)
    const path = ["spec", "toolRefs", i]
    return [
      checkReference(lookup.tool(ns, ref.name), path, `LanguageTool "${ns}/${ref.name}"`, (tool) =>
        tool.spec.deploymentMode === "sidecar"
          ? [
              finding(
                ClientRules.sidecarTool,
                path,
                `LanguageTool "${ns}/${ref.name}" runs in sidecar mode and is skipped`,
              ),
            ]
          : [],
      ),
    ]
  })
  const agents = (spec.agentRefs ?? []).flatMap((ref, i) =>
    ref.enabled
      ? [
          checkReference(
            lookup.agent(nsOr(ref, namespace), ref.name),
            ["spec", "agentRefs", i],
            `LanguageAgent "${nsOr(ref, namespace)}/${ref.name}"`,
          ),
        ]
      : [],
  )
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
  const secretRefs: ReadonlyArray<
    readonly [{ readonly name: string; readonly namespace?: string | undefined } | undefined, FieldPath]
  > = [
    [spec.tls?.enabled === true ? spec.tls.secretRef : undefined, ["spec", "tls", "secretRef"]],
    ...(spec.authentication?.providers ?? []).map(
      (p, i) =>
        [
          p.enabled ? p.secretRef : undefined,
          ["spec", "authentication", "providers", i, "secretRef"],
        ] as const,
    ),
    [spec.sessionConfig?.backendConfig?.secretRef, ["spec", "sessionConfig", "backendConfig", "secretRef"]],
  ]
  const secrets = secretRefs.flatMap(([ref, path]) =>
    ref === undefined || nsOr(ref, namespace) !== namespace
      ? []
      : [checkReference(lookup.secret(namespace, ref.name), path, `Secret "${namespace}/${ref.name}"`)],
  )
  return allFindings([...models, ...tools, ...agents, ...persona, ...secrets])
}

export const validateClient = (
  input: ValidationInput<LanguageClient>,
): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.map(clientReferenceFindings(input), (references) => [
    ...staticClientFindings(input.object, input.namespace, input.options),
    ...references,
  ])

export const clientAdmission: KindAdmission<typeof LanguageClient> = {
  kind: "LanguageClient",
  schema: LanguageClient,
  mutate: (object, namespace) => applyDefaults("LanguageClient", object, namespace),
  validate: validateClient,
}
