/**
 * LanguageModel admission (docs/languagemodel.md §Admission, §Validation, §LiteLLM; docs/concepts.md X-3).
 *
 * - Defaulting: `spec.egress[].to.service.namespace` (defaults.ts); no image (docs/languagemodel.md LM-1).
 * - Validation: errors of §Validation are denials, its warnings and §LiteLLM's (`custom` without
 *   endpoint, `azure` without `api_version`) admission warnings; egress rules; docs/concepts.md X-3 for
 *   `apiKeySecretRef`; missing fallback models and a missing API-key Secret are warnings, and so is
 *   a fallback naming the model itself (the controller skips it).
 */
import { Effect } from "effect"
import { LanguageModel } from "../../api/languagemodel.ts"
import { EgressRules, egressFindings } from "../../domain/egress.ts"
import { ENDPOINT_RULE, missingEndpoint } from "../../domain/languagemodel-deployments.ts"
import { effectiveName, isDns1035Label } from "../../domain/names.ts"
import {
  CommonRules,
  defineRules,
  type FieldPath,
  type Finding,
  finding,
  secretNamespaceFindings,
} from "../../domain/rules.ts"
import { applyDefaults } from "../defaults.ts"
import { allFindings, checkReference, type KindAdmission, type ValidationInput } from "./common.ts"

export const ModelRules = defineRules("languagemodel", {
  nameService: { severity: "deny", text: "metadata.name is a DNS-1035 label (it names Service <name>)" },
  endpointRequired: { severity: "deny", text: ENDPOINT_RULE },
  endpointMissing: {
    severity: "warn",
    text: "provider custom without endpoint relies on LiteLLM's provider/model routing (docs/languagemodel.md LM-6)",
  },
  url: {
    severity: "deny",
    text: "endpoint, loadBalancing.endpoints[].url and regions[].endpoint are absolute http or https URLs",
  },
  generationRange: {
    severity: "deny",
    text: "configuration.temperature ∈ [0, 2], topP ∈ [0, 1], frequencyPenalty and presencePenalty ∈ [-2, 2] (docs/languagemodel.md LM-7)",
  },
  reservedParameter: {
    severity: "deny",
    text: "configuration.additionalParameters does not set model, api_key or api_base",
  },
  azureApiVersion: {
    severity: "warn",
    text: "provider azure usually needs additionalParameters.api_version",
  },
  fallbackSelf: { severity: "warn", text: "a fallback naming the model itself is skipped" },
})

export const modelRuleCatalog = [
  ...Object.values(ModelRules),
  ...Object.values(EgressRules),
  ...Object.values(CommonRules),
]

const RESERVED_PARAMETERS = ["model", "api_key", "api_base"]

const isHttpUrl = (url: string): boolean => {
  if (!URL.canParse(url)) return false
  const parsed = new URL(url)
  return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== ""
}

const urlFinding = (url: string | undefined, path: FieldPath): ReadonlyArray<Finding> =>
  url === undefined || isHttpUrl(url)
    ? []
    : [finding(ModelRules.url, path, `"${url}" is not an absolute http or https URL`)]

const range = (value: number | undefined, min: number, max: number, field: string): ReadonlyArray<Finding> =>
  value === undefined || (value >= min && value <= max)
    ? []
    : [
        finding(
          ModelRules.generationRange,
          ["spec", "configuration", field],
          `${value} is outside [${min}, ${max}]`,
        ),
      ]

/** Every rule that needs no other object. Pure. */
export const staticModelFindings = (model: LanguageModel, namespace: string): ReadonlyArray<Finding> => {
  const spec = model.spec
  const out: Array<Finding> = []
  const name = effectiveName(model.metadata)
  if (name !== undefined && !isDns1035Label(name))
    out.push(
      finding(
        ModelRules.nameService,
        "metadata.name",
        `"${name}" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the model's Service`,
      ),
    )
  const endpoint = spec.endpoint === "" ? undefined : spec.endpoint
  const missing = missingEndpoint(spec)
  if (missing === "required")
    out.push(
      finding(
        ModelRules.endpointRequired,
        "spec.endpoint",
        `is required for provider ${spec.provider}: ${ENDPOINT_RULE}`,
      ),
    )
  if (missing === "warn")
    out.push(
      finding(
        ModelRules.endpointMissing,
        "spec.endpoint",
        "is empty: modelName must then be a LiteLLM provider/model that needs no base URL",
      ),
    )
  out.push(...urlFinding(endpoint, ["spec", "endpoint"]))
  for (const [i, ep] of (spec.loadBalancing?.endpoints ?? []).entries())
    out.push(...urlFinding(ep.url, ["spec", "loadBalancing", "endpoints", i, "url"]))
  for (const [i, region] of (spec.regions ?? []).entries())
    out.push(...urlFinding(region.endpoint, ["spec", "regions", i, "endpoint"]))
  const c = spec.configuration
  out.push(
    ...range(c?.temperature, 0, 2, "temperature"),
    ...range(c?.topP, 0, 1, "topP"),
    ...range(c?.frequencyPenalty, -2, 2, "frequencyPenalty"),
    ...range(c?.presencePenalty, -2, 2, "presencePenalty"),
  )
  const parameters = c?.additionalParameters ?? {}
  for (const key of RESERVED_PARAMETERS)
    if (Object.hasOwn(parameters, key))
      out.push(
        finding(
          ModelRules.reservedParameter,
          ["spec", "configuration", "additionalParameters", key],
          `"${key}" is set by the operator and cannot be overridden`,
        ),
      )
  if (spec.provider === "azure" && !Object.hasOwn(parameters, "api_version"))
    out.push(
      finding(
        ModelRules.azureApiVersion,
        "spec.configuration.additionalParameters",
        "has no api_version; Azure OpenAI requests usually need one",
      ),
    )
  out.push(...secretNamespaceFindings(spec.apiKeySecretRef, ["spec", "apiKeySecretRef"], namespace))
  for (const [i, fallback] of (spec.fallbacks ?? []).entries())
    if (fallback.modelRef === name)
      out.push(
        finding(
          ModelRules.fallbackSelf,
          ["spec", "fallbacks", i, "modelRef"],
          "names this model itself and is skipped",
        ),
      )
  out.push(...egressFindings(spec.egress))
  return out
}

/** Missing fallback models and API-key Secret (warnings). */
export const modelReferenceFindings = (
  input: ValidationInput<LanguageModel>,
): Effect.Effect<ReadonlyArray<Finding>> => {
  const { object: model, namespace, lookup } = input
  const name = effectiveName(model.metadata)
  const fallbacks = (model.spec.fallbacks ?? []).flatMap((fallback, i) =>
    fallback.modelRef === name
      ? []
      : [
          checkReference(
            lookup.model(namespace, fallback.modelRef),
            ["spec", "fallbacks", i, "modelRef"],
            `fallback LanguageModel "${namespace}/${fallback.modelRef}"`,
          ),
        ],
  )
  const ref = model.spec.apiKeySecretRef
  const secret =
    ref === undefined || (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace)
      ? []
      : [
          checkReference(
            lookup.secret(namespace, ref.name),
            ["spec", "apiKeySecretRef"],
            `Secret "${namespace}/${ref.name}"`,
          ),
        ]
  return allFindings([...fallbacks, ...secret])
}

export const validateModel = (input: ValidationInput<LanguageModel>): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.map(modelReferenceFindings(input), (references) => [
    ...staticModelFindings(input.object, input.namespace),
    ...references,
  ])

export const modelAdmission: KindAdmission<typeof LanguageModel> = {
  kind: "LanguageModel",
  schema: LanguageModel,
  mutate: (object, namespace) => applyDefaults("LanguageModel", object, namespace),
  validate: validateModel,
}
