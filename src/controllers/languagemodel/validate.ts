/**
 * Static validation of a LanguageModel (docs/languagemodel.md §Validation, docs/concepts.md X-3). PURE.
 *
 * The validating webhook denies every `errors` entry and returns `warnings` as admission warnings; the
 * reconciler re-checks (objects stored without the webhook) and reports the first error as
 * `Ready=False` `InvalidName` (name) or `InvalidSpec` (everything else). The Secret namespace rule is
 * not here: it has its own reason (`CrossNamespaceSecretUnsupported`, see decide.ts).
 */
import type { LanguageModelSpec } from "../../api/languagemodel.ts"
import { ENDPOINT_RULE, missingEndpoint } from "../../domain/languagemodel-deployments.ts"
import { isDns1035Label } from "../../domain/names.ts"
import { RESERVED_PARAMETERS } from "./litellm-mapping.ts"

export interface ValidationIssue {
  /** JSON path of the offending field, e.g. `spec.configuration.temperature`. */
  readonly path: string
  readonly message: string
}

export interface ModelValidation {
  /** Problems with `metadata.name` (it names a Service: DNS-1035 label). */
  readonly nameErrors: ReadonlyArray<ValidationIssue>
  readonly errors: ReadonlyArray<ValidationIssue>
  readonly warnings: ReadonlyArray<ValidationIssue>
}

const isHttpUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false
  const u = new URL(value)
  return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== ""
}

const range = (
  out: Array<ValidationIssue>,
  path: string,
  value: number | undefined,
  min: number,
  max: number,
) => {
  if (value !== undefined && (value < min || value > max))
    out.push({ path, message: `must be between ${min} and ${max}, got ${value}` })
}

export const validateModel = (name: string, spec: LanguageModelSpec): ModelValidation => {
  const nameErrors: Array<ValidationIssue> = []
  if (!isDns1035Label(name))
    nameErrors.push({
      path: "metadata.name",
      message: `"${name}" must be a DNS-1035 label (at most 63 lowercase letters, digits and '-', starting with a letter) because it names the proxy Service`,
    })

  const errors: Array<ValidationIssue> = []
  const warnings: Array<ValidationIssue> = []
  const missing = missingEndpoint(spec)
  if (missing === "required")
    errors.push({
      path: "spec.endpoint",
      message: `required for provider ${spec.provider}: ${ENDPOINT_RULE}`,
    })
  if (missing === "warn")
    warnings.push({
      path: "spec.endpoint",
      message: "provider custom without endpoint: modelName must be a LiteLLM provider/model that needs none",
    })
  const url = (path: string, value: string | undefined) => {
    if (value !== undefined && value !== "" && !isHttpUrl(value))
      errors.push({ path, message: `"${value}" must be an absolute http or https URL` })
  }
  url("spec.endpoint", spec.endpoint)
  spec.loadBalancing?.endpoints?.forEach((e, i) => {
    url(`spec.loadBalancing.endpoints[${i}].url`, e.url)
  })
  spec.regions?.forEach((r, i) => {
    url(`spec.regions[${i}].endpoint`, r.endpoint)
  })

  const cfg = spec.configuration
  range(errors, "spec.configuration.temperature", cfg?.temperature, 0, 2)
  range(errors, "spec.configuration.topP", cfg?.topP, 0, 1)
  range(errors, "spec.configuration.frequencyPenalty", cfg?.frequencyPenalty, -2, 2)
  range(errors, "spec.configuration.presencePenalty", cfg?.presencePenalty, -2, 2)
  for (const key of Object.keys(cfg?.additionalParameters ?? {}).sort())
    if (RESERVED_PARAMETERS.has(key))
      errors.push({
        path: `spec.configuration.additionalParameters.${key}`,
        message: `"${key}" is set by the operator and cannot be overridden`,
      })

  if (spec.provider === "azure" && cfg?.additionalParameters?.api_version === undefined)
    warnings.push({
      path: "spec.configuration.additionalParameters.api_version",
      message: "provider azure usually needs api_version (set it in additionalParameters)",
    })
  return { nameErrors, errors, warnings }
}

/** `path: message` lines joined for a condition message. */
export const issuesMessage = (issues: ReadonlyArray<ValidationIssue>): string =>
  issues.map((i) => `${i.path}: ${i.message}`).join("; ")
