import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { AgentUsage, noUsage } from "../../../src/controllers/languageagent/usage.ts"
import { controllerServicesLayer } from "../../../src/operator/controllers.ts"
import { settingsFrom } from "../../../src/settings.ts"

const usageWith = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const settings = yield* settingsFrom(env)
      return yield* Effect.provide(
        Effect.gen(function* () {
          return yield* AgentUsage
        }),
        controllerServicesLayer(settings),
      )
    }),
  )

describe("controller services of the running operator", () => {
  it("read the model proxies' per-user counters only with LANGOP_USAGE_ATTRIBUTION on", async () => {
    expect(await usageWith({})).toBe(noUsage)
    expect(await usageWith({ LANGOP_USAGE_ATTRIBUTION: "true" })).not.toBe(noUsage)
  })
})
