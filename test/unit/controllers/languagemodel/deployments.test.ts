/**
 * The endpoint rule: `spec.endpoint` is required only when some deployment of the model would have no
 * URL. One table, checked against the three places that use the rule — the validating webhook, the
 * reconciler's validation and the rendered `model_list` — so they cannot disagree.
 */
import { describe, expect, it } from "vitest"
import { validateModel } from "../../../../src/controllers/languagemodel/validate.ts"
import { missingEndpoint } from "../../../../src/domain/languagemodel-deployments.ts"
import { staticModelFindings } from "../../../../src/webhook/kinds/languagemodel.ts"
import { cfg, model, render, spec } from "./fixtures.ts"

const UP = "http://llm.example.com:8080"

interface Row {
  readonly name: string
  readonly fields: Record<string, unknown>
  readonly outcome: "required" | "warn" | undefined
  /** `model_info.id` of the model's own deployments as rendered (only for admitted specs). */
  readonly ids?: ReadonlyArray<string>
}

const rows: ReadonlyArray<Row> = [
  {
    name: "openai-compatible with nothing but a model name",
    fields: { provider: "openai-compatible" },
    outcome: "required",
  },
  {
    name: "azure with an empty endpoint",
    fields: { provider: "azure", endpoint: "" },
    outcome: "required",
  },
  {
    name: "openai-compatible with an endpoint",
    fields: { provider: "openai-compatible", endpoint: UP },
    outcome: undefined,
    ids: ["m-primary"],
  },
  {
    name: "openai-compatible with load-balanced endpoints only (they replace the primary)",
    fields: {
      provider: "openai-compatible",
      loadBalancing: { endpoints: [{ url: `${UP}/a` }, { url: `${UP}/b` }] },
    },
    outcome: undefined,
    ids: ["m-ep-0", "m-ep-1"],
  },
  {
    name: "azure with enabled regions that have endpoints (the regions are the deployments)",
    fields: {
      provider: "azure",
      regions: [
        { name: "eastus", endpoint: "https://east.openai.azure.com" },
        { name: "westeurope", endpoint: "https://west.openai.azure.com" },
      ],
    },
    outcome: undefined,
    ids: ["m-region-eastus", "m-region-westeurope"],
  },
  {
    name: "openai-compatible whose only region with an endpoint is disabled",
    fields: { provider: "openai-compatible", regions: [{ name: "r1", endpoint: UP, enabled: false }] },
    outcome: "required",
  },
  {
    name: "openai-compatible whose regions have no endpoint",
    fields: { provider: "openai-compatible", regions: [{ name: "r1" }] },
    outcome: "required",
  },
  {
    name: "openai-compatible with an empty load-balancing list",
    fields: { provider: "openai-compatible", loadBalancing: { endpoints: [] } },
    outcome: "required",
  },
  {
    name: "custom without endpoint: a warning (LiteLLM's provider/model may need none)",
    fields: { provider: "custom", modelName: "groq/llama3-8b-8192" },
    outcome: "warn",
    ids: ["m-primary"],
  },
  {
    name: "custom with load-balanced endpoints: no warning",
    fields: { provider: "custom", modelName: "x/y", loadBalancing: { endpoints: [{ url: UP }] } },
    outcome: undefined,
    ids: ["m-ep-0"],
  },
  {
    name: "openai keeps its primary deployment (LiteLLM's default host) beside regional ones",
    fields: { provider: "openai", regions: [{ name: "eu", endpoint: UP }] },
    outcome: undefined,
    ids: ["m-primary", "m-region-eu"],
  },
]

describe("spec.endpoint is required only when some deployment would have no URL", () => {
  it.each(rows)("$name → $outcome", (row) => {
    const s = spec(row.fields)
    expect(missingEndpoint(s)).toBe(row.outcome)

    // The webhook denies / warns with the field and the rule.
    const findings = staticModelFindings(model(row.fields), "ns").filter((f) => f.path === "spec.endpoint")
    const reconciled = validateModel("m", s)
    if (row.outcome === "required") {
      expect(findings).toEqual([
        expect.objectContaining({
          rule: "languagemodel/endpointRequired",
          severity: "deny",
          message: expect.stringMatching(
            /^is required for provider \S+: .*set spec\.endpoint, or list loadBalancing\.endpoints, or give an enabled regions\[\] entry an endpoint$/u,
          ),
        }),
      ])
      expect(reconciled.errors.map((e) => e.path)).toEqual(["spec.endpoint"])
      return
    }
    expect(findings.filter((f) => f.severity === "deny")).toEqual([])
    expect(reconciled.errors).toEqual([])
    expect(findings.map((f) => f.rule)).toEqual(
      row.outcome === "warn" ? ["languagemodel/endpointMissing"] : [],
    )
    expect(reconciled.warnings.some((w) => w.path === "spec.endpoint")).toBe(row.outcome === "warn")

    // What is rendered: every deployment of a provider that needs a URL has one.
    const list = cfg(render(row.fields)).model_list as ReadonlyArray<{
      model_info: { id: string }
      litellm_params: { api_base?: string }
    }>
    expect(list.map((d) => d.model_info.id)).toEqual(row.ids)
    if (s.provider === "openai-compatible" || s.provider === "azure")
      for (const d of list) expect(d.litellm_params.api_base).toMatch(/^https?:\/\//u)
  })
})
