import { Effect, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { LanguageClient } from "../../../../src/api/languageclient.ts"
import {
  agentModelKeys,
  clientModelKeys,
  fallbackTargetKeys,
} from "../../../../src/controllers/languagemodel/consumers.ts"
import { modelControllerOptionsFromSettings } from "../../../../src/controllers/languagemodel/index.ts"
import { OPERATOR_POD_LABELS } from "../../../../src/network/ingress.ts"
import { settingsFrom } from "../../../../src/settings.ts"
import { model } from "./fixtures.ts"

const agent = (modelRefs: ReadonlyArray<Record<string, unknown>>, meta: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(LanguageAgent)({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageAgent",
    metadata: { name: "a", namespace: "team", ...meta },
    spec: { image: "ghcr.io/langop/agent:1.0", modelRefs },
  })

const client = (spec: Record<string, unknown>) =>
  Schema.decodeUnknownSync(LanguageClient)({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageClient",
    metadata: { name: "c", namespace: "web" },
    spec: { image: "ghcr.io/langop/client:1.0", type: "web", ...spec },
  })

describe("which models an object calls (the index the ingress policy and its watches use)", () => {
  it("agents: each referenced model once, an empty namespace meaning the agent's own", () => {
    expect(
      agentModelKeys(
        agent([{ name: "gpt" }, { name: "gpt", namespace: "team" }, { name: "x", namespace: "ml" }]),
      ),
    ).toEqual(["team/gpt", "ml/x"])
    expect(agentModelKeys(agent([{ name: "gpt" }], { deletionTimestamp: "2025-01-01T00:00:00Z" }))).toEqual(
      [],
    )
  })

  it("clients: spec.modelRefs and every region's modelRefs", () => {
    expect(
      clientModelKeys(
        client({
          modelRefs: [{ name: "gpt", namespace: "team" }],
          regions: [{ name: "eu", modelRefs: [{ name: "eu-model" }] }, { name: "us" }],
        }),
      ),
    ).toEqual(["team/gpt", "web/eu-model"])
  })

  it("models: the fallbacks they chain to, in their own namespace", () => {
    expect(
      fallbackTargetKeys(model({ fallbacks: [{ modelRef: "b" }, { modelRef: "c" }, { modelRef: "b" }] })),
    ).toEqual(["ns/b", "ns/c"])
    expect(fallbackTargetKeys(model({}))).toEqual([])
  })
})

describe("the operator's pods are admitted only while the operator calls proxies", () => {
  it.each([
    [{}, false],
    [{ LANGOP_MODEL_METRICS_SCRAPE: "true" }, true],
    [{ LANGOP_MODEL_HEALTH_POLLING: "true" }, true],
    [{ LANGOP_USAGE_ATTRIBUTION: "true" }, true],
  ])("settings %j → admitted %s", (env, admitted) => {
    const settings = Effect.runSync(settingsFrom({ POD_NAMESPACE: "ops", ...env }))
    const options = modelControllerOptionsFromSettings(settings)
    if (Result.isFailure(options)) throw new Error(options.failure)
    expect(options.success.operatorPeer).toEqual(
      admitted ? { namespace: "ops", podLabels: OPERATOR_POD_LABELS } : undefined,
    )
  })
})
