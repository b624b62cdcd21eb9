import { describe, expect, it } from "vitest"
import { modelAdmission, modelRuleCatalog } from "../../../../src/webhook/kinds/languagemodel.ts"
import { checkRow, expectCovered, failingLookup, mutate, NS, type Row, withSpec } from "./support.ts"

const model = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageModel",
  metadata: { name: "gpt-4o-mini", namespace: NS },
  spec: { provider: "openai", modelName: "gpt-4o-mini", apiKeySecretRef: { name: "openai-credentials" } },
}
const m = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  withSpec(model, spec, metadata)

const rows: ReadonlyArray<Row> = [
  { name: "a minimal valid model is allowed without warnings", object: model },
  {
    name: "the name is a DNS-1035 label",
    object: m({}, { name: "gpt.4o" }),
    deny: [
      `metadata.name: "gpt.4o" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the model's Service`,
    ],
  },
  {
    name: "openai-compatible and azure need an endpoint",
    object: m({ provider: "openai-compatible" }),
    deny: [
      "spec.endpoint: is required for provider openai-compatible: providers openai-compatible and azure need a URL for every deployment: set spec.endpoint, or list loadBalancing.endpoints, or give an enabled regions[] entry an endpoint",
    ],
  },
  {
    name: "azure without endpoint and without api_version",
    object: m({ provider: "azure", endpoint: "" }),
    deny: [
      "spec.endpoint: is required for provider azure: providers openai-compatible and azure need a URL for every deployment: set spec.endpoint, or list loadBalancing.endpoints, or give an enabled regions[] entry an endpoint",
    ],
    warn: [
      "spec.configuration.additionalParameters: has no api_version; Azure OpenAI requests usually need one",
    ],
  },
  {
    name: "azure with endpoint and api_version is fine",
    object: m({
      provider: "azure",
      endpoint: "https://example.openai.azure.com",
      configuration: { additionalParameters: { api_version: "2025-01-01-preview" } },
    }),
  },
  {
    name: "custom without endpoint: a warning (docs/languagemodel.md LM-6)",
    object: m({ provider: "custom", modelName: "groq/llama3-8b-8192" }),
    warn: ["spec.endpoint: is empty: modelName must then be a LiteLLM provider/model that needs no base URL"],
  },
  {
    name: "URLs are absolute http or https",
    object: m({
      endpoint: "ftp://models.example.com",
      loadBalancing: { endpoints: [{ url: "http://a.example.com/v1" }, { url: "/relative" }] },
      regions: [
        { name: "eu", endpoint: "https://eu.example.com" },
        { name: "us", endpoint: "us.example.com" },
      ],
    }),
    deny: [
      'spec.endpoint: "ftp://models.example.com" is not an absolute http or https URL',
      'spec.loadBalancing.endpoints[1].url: "/relative" is not an absolute http or https URL',
      'spec.regions[1].endpoint: "us.example.com" is not an absolute http or https URL',
    ],
  },
  {
    name: "generation parameters out of range (docs/languagemodel.md LM-7)",
    object: m({ configuration: { temperature: 2.5, topP: -0.1, frequencyPenalty: 3, presencePenalty: -2 } }),
    deny: [
      "spec.configuration.temperature: 2.5 is outside [0, 2]",
      "spec.configuration.topP: -0.1 is outside [0, 1]",
      "spec.configuration.frequencyPenalty: 3 is outside [-2, 2]",
    ],
  },
  {
    name: "reserved additionalParameters",
    object: m({ configuration: { additionalParameters: { api_base: "x", model: "y", seed: "42" } } }),
    deny: [
      'spec.configuration.additionalParameters.model: "model" is set by the operator and cannot be overridden',
      'spec.configuration.additionalParameters.api_base: "api_base" is set by the operator and cannot be overridden',
    ],
  },
  {
    name: "the API-key Secret must be in the model's namespace (docs/concepts.md X-3)",
    object: m({ apiKeySecretRef: { name: "openai-credentials", namespace: "vault" } }),
    deny: [
      'spec.apiKeySecretRef.namespace: Secret "vault/openai-credentials" is in another namespace than this object ("team"); Pods can only use Secrets of their own namespace',
    ],
  },
  {
    name: "missing API-key Secret and fallback: warnings; a self-fallback is skipped",
    object: m({
      apiKeySecretRef: { name: "nope" },
      fallbacks: [{ modelRef: "backup" }, { modelRef: "missing" }, { modelRef: "gpt-4o-mini" }],
    }),
    warn: [
      "spec.fallbacks[2].modelRef: names this model itself and is skipped",
      'spec.fallbacks[1].modelRef: fallback LanguageModel "team/missing" not found (it may be created later)',
      'spec.apiKeySecretRef: Secret "team/nope" not found (it may be created later)',
    ],
  },
  {
    name: "lookups that fail are warnings",
    object: model,
    lookup: failingLookup,
    warn: ['spec.apiKeySecretRef: cannot check Secret "team/openai-credentials" now: timeout'],
  },
  {
    name: "schema violations",
    object: m({ provider: "mystery", modelName: "", timeout: "1.5s" }),
    deny: [
      'spec.provider: Expected "openai" | "anthropic" | "openai-compatible" | "azure" | "bedrock" | "vertex" | "custom"',
      "spec.modelName: Expected a value with a length of at least 1",
      "spec.timeout: Expected a string matching the RegExp ^[0-9]+(ns|us|µs|ms|s|m|h)$",
    ],
  },
  {
    name: "egress rules",
    object: m({
      egress: [
        { description: "nothing" },
        { to: { dns: ["api.anthropic.com", "*.", "a..b"] } },
        { to: { cidr: "10.1.2.3/08" } },
        { to: { service: { name: "-x" } } },
        { to: { group: "" } },
        { from: { cidr: "0.0.0.0/0" }, to: { namespaceSelector: { matchLabels: { app: "bad value" } } } },
      ],
    }),
    deny: [
      "spec.egress[0]: rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
      'spec.egress[1].to.dns[1]: "*." is not a valid DNS name or single leading wildcard',
      'spec.egress[1].to.dns[2]: "a..b" is not a valid DNS name or single leading wildcard',
      'spec.egress[2].to.cidr: "10.1.2.3/08" is not an IPv4 or IPv6 CIDR or address',
      `spec.egress[3].to.service.name: "-x" is not a valid Service name (DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters)`,
      'spec.egress[4].to.group: "" is not a valid label value',
      'spec.egress[5].to.namespaceSelector.matchLabels.app: "bad value" is not a valid label value',
    ],
    warn: ["spec.egress[5].from: is ignored on an egress rule; use `to`"],
  },
]

describe("LanguageModel validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(modelAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(modelRuleCatalog, exercised))
})

describe("LanguageModel defaulting", () => {
  it("sets only egress Service namespaces, idempotently; no image (docs/languagemodel.md LM-1)", () => {
    const object = m({ egress: [{ to: { service: { name: "ollama" } } }] })
    const { result, patch } = mutate(modelAdmission, object)
    expect(patch).toEqual([{ op: "add", path: "/spec/egress/0/to/service/namespace", value: NS }])
    expect(result.spec).not.toHaveProperty("image")
    expect(mutate(modelAdmission, result).patch).toEqual([])
  })
})
