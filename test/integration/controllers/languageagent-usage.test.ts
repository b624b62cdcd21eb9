// Usage attribution on the local control plane: a model proxy counting requests changes nothing the
// operator watches, so the agent must read its usage again at the scrape interval — not wait for the
// resync (set to 10 minutes here, far beyond the test's deadlines). The usage source is replaced by
// counters the test sets (the real one reads the proxies' /metrics, tested in the unit project); two
// models of the same name in two namespaces are reported apart.
import { Effect, Ref } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import type { ModelUsageSample } from "../../../src/controllers/languageagent/observe.ts"
import { AgentUsage, type AgentUsageShape } from "../../../src/controllers/languageagent/usage.ts"
import { settingsFrom } from "../../../src/settings.ts"
import {
  createNamespace,
  deleteNamespace,
  kubectl,
  makeKubeConfig,
  clusterTest as test,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

type Json = Record<string, unknown>

let op: RunningOperator | undefined
const requests = Effect.runSync(Ref.make(1))

/** Every referenced model reports `requests` requests, 10 input and 5 output tokens per request. */
const usage: AgentUsageShape = {
  samples: (_agent, models) =>
    Effect.map(Ref.get(requests), (n) =>
      models.map(
        (m): ModelUsageSample => ({
          modelNamespace: m.namespace,
          modelName: m.name,
          requestCount: n,
          inputTokens: 10 * n,
          outputTokens: 5 * n,
          since: "2026-01-01T00:00:00Z",
        }),
      ),
    ),
}

beforeAll(async () => {
  await installCrds()
  const settings = await Effect.runPromise(
    settingsFrom({
      LANGOP_USAGE_ATTRIBUTION: "true",
      LANGOP_MODEL_METRICS_INTERVAL: "1s",
      LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s",
    }),
  )
  const options = agentControllerOptionsFromSettings(settings)
  if (options._tag === "Failure") throw new Error(options.failure)
  const agent = languageAgentController(options.success)
  op = await startOperator(
    [{ ...agent, reconcile: (req) => agent.reconcile(req).pipe(Effect.provideService(AgentUsage, usage)) }],
    { resyncPeriodMs: 600_000 },
  )
}, 120_000)

afterAll(async () => {
  await op?.stop()
})

const run = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`)
  return r.stdout
}
const apply = (obj: Json) => run(["apply", "-f", "-"], JSON.stringify(obj))

const model = async (namespace: string, name: string) => {
  await apply({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageModel",
    metadata: { name, namespace },
    spec: { provider: "openai", modelName: "gpt-4o-mini" },
  })
  await run([
    "patch",
    "languagemodel",
    name,
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { phase: "Ready" } }),
  ])
}

interface AgentStatus {
  readonly phase?: string
  readonly modelUsage?: ReadonlyArray<Json>
  readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>
}

const statusOf = async (namespace: string): Promise<AgentStatus | undefined> =>
  (
    JSON.parse(await run(["get", "languageagent", "bot", "-n", namespace, "-o", "json"])) as {
      status?: AgentStatus
    }
  ).status

const modelUsageOf = async (namespace: string) => (await statusOf(namespace))?.modelUsage

const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 45_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await check()
    if (r !== undefined) return r
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe("LanguageAgent usage attribution", () => {
  test("usage follows the counters at the scrape interval, per model namespace and name", async ({
    namespace,
  }) => {
    const other = await createNamespace(makeKubeConfig(), "usage-models")
    try {
      await model(namespace, "gpt")
      await model(other, "gpt")
      await apply({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageAgent",
        metadata: { name: "bot", namespace },
        spec: {
          image: "ghcr.io/langop/agent:1.0",
          modelRefs: [{ name: "gpt" }, { name: "gpt", namespace: other }],
        },
      })
      const first = await eventually("modelUsage with one request per model", async () => {
        const u = await modelUsageOf(namespace)
        return u?.length === 2 && u.every((m) => m.requestCount === 1) ? u : undefined
      })
      expect(first.map((m) => `${String(m.modelNamespace)}/${String(m.modelName)}`).sort()).toEqual(
        [`${namespace}/gpt`, `${other}/gpt`].sort(),
      )
      // Let the workload settle (Deployment available, agent Ready and Running), so no change of an
      // object the controller watches is still on its way; from here only the proxies' counters change.
      await eventually("agent Ready and Running", async () => {
        const s = await statusOf(namespace)
        return s?.phase === "Running" &&
          s.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
          ? s
          : undefined
      })
      Effect.runSync(Ref.set(requests, 7))
      const later = await eventually("modelUsage following the counters", async () => {
        const u = await modelUsageOf(namespace)
        return u?.every((m) => m.requestCount === 7) === true ? u : undefined
      })
      expect(later).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ modelNamespace: other, modelName: "gpt", totalTokens: 105 }),
          expect.objectContaining({ modelNamespace: namespace, modelName: "gpt", totalTokens: 105 }),
        ]),
      )
    } finally {
      await deleteNamespace(makeKubeConfig(), other)
    }
  })
})
