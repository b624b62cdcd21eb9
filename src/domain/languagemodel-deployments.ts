/**
 * Which of a LanguageModel's own deployments gets which base URL: the one rule that the renderer
 * (litellm.ts), the reconciler's validation (validate.ts) and the validating webhook share, so an object
 * the webhook admits is never refused at reconcile and never rendered with a deployment LiteLLM would send
 * to a default host. PURE.
 *
 * - A non-empty `loadBalancing.endpoints` replaces the primary deployment (one deployment per endpoint,
 *   each with its own URL).
 * - Otherwise there is one primary deployment using `spec.endpoint` — except for providers that have no
 *   default host (openai-compatible, azure) when `spec.endpoint` is empty and some enabled region has an
 *   endpoint: those regional deployments then are the model, and a URL-less primary would only send
 *   requests to api.openai.com (LiteLLM's default for `openai/…`) with a dummy key.
 * - Enabled regions add deployments of their own (their URL, or a region parameter for bedrock/vertex).
 *
 * So `spec.endpoint` is needed exactly when a primary deployment is rendered without a URL.
 */
import type { LanguageModelSpec, ModelProvider } from "../api/languagemodel.ts"

/** Providers LiteLLM cannot reach without a base URL: every deployment of theirs needs one. */
export const needsBaseUrl = (provider: ModelProvider): boolean =>
  provider === "openai-compatible" || provider === "azure"

const given = (value: string | undefined): value is string => value !== undefined && value !== ""

export type PrimaryDeployment =
  /** `loadBalancing.endpoints` lists every deployment. */
  | { readonly _tag: "ReplacedByEndpoints" }
  /** The provider needs a URL, `spec.endpoint` is empty, and enabled regions with endpoints serve. */
  | { readonly _tag: "ReplacedByRegions" }
  /** One primary deployment; `url` is `spec.endpoint`, undefined when empty. */
  | { readonly _tag: "Primary"; readonly url: string | undefined }

export const primaryDeployment = (spec: LanguageModelSpec): PrimaryDeployment => {
  if ((spec.loadBalancing?.endpoints ?? []).length > 0) return { _tag: "ReplacedByEndpoints" }
  if (given(spec.endpoint)) return { _tag: "Primary", url: spec.endpoint }
  const regional = (spec.regions ?? []).some((r) => r.enabled && given(r.endpoint))
  if (needsBaseUrl(spec.provider) && regional) return { _tag: "ReplacedByRegions" }
  return { _tag: "Primary", url: undefined }
}

/**
 * What an empty `spec.endpoint` means for this spec: `required` (some deployment would have no URL and
 * the provider needs one: a denial), `warn` (custom provider: LiteLLM's own `provider/model` routing may
 * need none), or undefined (every deployment has a URL, or the provider has a default host).
 */
export const missingEndpoint = (spec: LanguageModelSpec): "required" | "warn" | undefined => {
  const primary = primaryDeployment(spec)
  if (primary._tag !== "Primary" || primary.url !== undefined) return undefined
  if (needsBaseUrl(spec.provider)) return "required"
  return spec.provider === "custom" ? "warn" : undefined
}

/** The text of the rule, for denials and `InvalidSpec` messages (names what satisfies it). */
export const ENDPOINT_RULE =
  "providers openai-compatible and azure need a URL for every deployment: set spec.endpoint, or list loadBalancing.endpoints, or give an enabled regions[] entry an endpoint"
