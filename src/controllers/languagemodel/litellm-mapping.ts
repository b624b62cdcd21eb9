/**
 * Value mappings from LanguageModel fields to LiteLLM values (docs/languagemodel.md §LiteLLM configuration),
 * and the names the config and the workload share. PURE; used by litellm.ts and workload.ts.
 */
import { parseDuration } from "../../api/shared.ts"
import type { YamlValue } from "./yaml.ts"

export type LiteLLMLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR"

// ---------------------------------------------------------------------------------------------------------
// Constants shared with the workload

export const API_KEY_ENV = "LANGOP_MODEL_API_KEY"
export const REDIS_PASSWORD_ENV = "LANGOP_CACHE_REDIS_PASSWORD"
/** Key sent to keyless upstreams and to fallback proxies (which accept any key; docs/languagemodel.md LM-10). */
export const DUMMY_API_KEY = "sk-local-dummy-key"
/** Where the `secrets` volume is mounted (vertex credentials file). */
export const SECRETS_MOUNT_PATH = "/etc/secrets"
export const PROXY_SERVICE_PORT = 8000
export const DEFAULT_TIMEOUT_SECONDS = 300

export const LOG_LEVELS: Readonly<Record<string, LiteLLMLogLevel>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
}

export const ROUTING: Readonly<Record<string, string>> = {
  "round-robin": "simple-shuffle",
  random: "simple-shuffle",
  weighted: "simple-shuffle",
  "least-connections": "least-busy",
  "latency-based": "latency-based-routing",
}

export const PROVIDER_PREFIX: Readonly<Record<string, string>> = {
  openai: "openai/",
  anthropic: "anthropic/",
  azure: "azure/",
  bedrock: "bedrock/",
  vertex: "vertex_ai/",
  "openai-compatible": "openai/",
  custom: "",
}

/** Keys of `additionalParameters` the operator owns (validation rejects them; never merged). */
export const RESERVED_PARAMETERS: ReadonlySet<string> = new Set(["model", "api_key", "api_base"])

// ---------------------------------------------------------------------------------------------------------
// Small pure helpers (exported for tests)

/** Duration string → seconds (float); undefined when unparseable. `500ms` → 0.5. */
export const durationSeconds = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  return ms === undefined ? undefined : ms / 1000
}

/** LiteLLM `model` for a provider and model name. */
export const litellmModel = (provider: string, modelName: string): string =>
  `${PROVIDER_PREFIX[provider] ?? ""}${modelName}`

/** `api_base` for a URL: `/v1` appended for openai-compatible and custom when the path is empty or `/`. */
export const apiBase = (provider: string, url: string): string => {
  if (provider !== "openai-compatible" && provider !== "custom") return url
  if (!URL.canParse(url)) return url
  const u = new URL(url)
  if (u.pathname !== "/" && u.pathname !== "") return url
  const [beforeQuery = url] = url.split(/[?#]/u)
  return `${beforeQuery.replace(/\/+$/u, "")}/v1${url.slice(beforeQuery.length)}`
}

/** `additionalParameters` value: JSON number/boolean/null/array/object when it parses as one, else the string. */
export const parameterValue = (raw: string): YamlValue => {
  try {
    const parsed: unknown = JSON.parse(raw)
    if (typeof parsed === "string") return raw
    return parsed as YamlValue
  } catch {
    return raw
  }
}

/** Each share `max(1, floor(limit × wᵢ / Σw))`; equal shares when every weight is 0 (docs/languagemodel.md LM-8). */
export const splitLimit = (limit: number, weights: ReadonlyArray<number>): ReadonlyArray<number> => {
  if (weights.length <= 1) return weights.map(() => limit)
  const total = weights.reduce((a, b) => a + b, 0)
  const effective = total === 0 ? weights.map(() => 1) : weights
  const sum = total === 0 ? weights.length : total
  return effective.map((w) => Math.max(1, Math.floor((limit * w) / sum)))
}

const RETRY_CLASSES = [
  "BadRequestErrorRetries",
  "AuthenticationErrorRetries",
  "TimeoutErrorRetries",
  "RateLimitErrorRetries",
  "ContentPolicyViolationErrorRetries",
  "InternalServerErrorRetries",
] as const
export type RetryClass = (typeof RETRY_CLASSES)[number]

/** LiteLLM error class of an HTTP status code, or undefined when none maps. */
export const retryClassOf = (code: number): RetryClass | undefined => {
  if (code === 429) return "RateLimitErrorRetries"
  if (code === 408 || code === 504) return "TimeoutErrorRetries"
  if (code >= 500 && code <= 599) return "InternalServerErrorRetries"
  if (code === 400) return "BadRequestErrorRetries"
  if (code === 401 || code === 403) return "AuthenticationErrorRetries"
  return undefined
}

/** `router_settings.retry_policy` and the codes that map to no class. */
export const retryPolicy = (
  codes: ReadonlyArray<number>,
  attempts: number,
): { readonly policy: Record<RetryClass, number>; readonly unmapped: ReadonlyArray<number> } => {
  const classes = new Set(codes.map(retryClassOf))
  const policy = Object.fromEntries(
    RETRY_CLASSES.map((c) => [
      c,
      c !== "ContentPolicyViolationErrorRetries" && classes.has(c) ? attempts : 0,
    ]),
  ) as Record<RetryClass, number>
  return { policy, unmapped: [...new Set(codes.filter((c) => retryClassOf(c) === undefined))] }
}

export const sortedEntries = (m: Readonly<Record<string, string>> | undefined) =>
  Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
