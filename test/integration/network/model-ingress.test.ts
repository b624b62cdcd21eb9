// The ingress NetworkPolicy the LanguageModel reconciler writes for a model proxy, verified with np-guard's
// netpol-analyzer on the real control plane: the proxy answers the pods of the agents that reference the
// model (its own namespace and another one), the proxy of a model that chains to it as a fallback and the
// operator's pods while it probes — and nobody else, not even an agent of its namespace that references
// another model. When a reference goes, so does the admission (the reference watches keep it current).
// Only the model controller runs; the consumers' pods are plain Deployments with the operator's pod labels
// (kwok runs them), as the agent controller would label them.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import {
  languageModelController,
  modelControllerOptionsFromSettings,
} from "../../../src/controllers/languagemodel/index.ts"
import { commonLabels } from "../../../src/domain/labels.ts"
import { OPERATOR_POD_LABELS } from "../../../src/network/ingress.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { createNamespace, deleteNamespace, kubectl, makeKubeConfig } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type ConnectionQuery, describeQuery, evalConnections } from "../setup/netpol.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"
import { createWorkload, podRef, poll, runningPod } from "./support.ts"

type Json = Record<string, unknown>
type Who = "support" | "visitor" | "premium" | "operator" | "stranger" | "bystander"

const must = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
const applyIn = (ns: string, obj: Json) => must(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj))

const model = (name: string, spec: Json = {}): Json => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageModel",
  metadata: { name },
  spec: { provider: "openai-compatible", modelName: name, endpoint: "http://203.0.113.5:8080", ...spec },
})
const agent = (name: string, modelRefs: ReadonlyArray<Json>): Json => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageAgent",
  metadata: { name },
  spec: { image: "ghcr.io/langop/agent:1.0", executionMode: "interactive", modelRefs },
})

interface World {
  readonly kc: KubeConfig
  readonly ns: string
  readonly otherNs: string
  readonly operatorNs: string
  readonly proxy: V1Pod
  readonly pods: Record<Who, V1Pod>
}

let op: RunningOperator | undefined
let world: World | undefined
const get = (): World => {
  if (world === undefined) throw new Error("not set up")
  return world
}

beforeAll(async () => {
  const kc = makeKubeConfig()
  await installCrds()
  const ns = await createNamespace(kc, "ing-model")
  const otherNs = await createNamespace(kc, "ing-visitor")
  const operatorNs = await createNamespace(kc, "ing-operator")
  const settings = await Effect.runPromise(
    settingsFrom({ POD_NAMESPACE: operatorNs, LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s" }),
  )
  const options = modelControllerOptionsFromSettings(settings)
  if (Result.isFailure(options)) throw new Error(options.failure)
  // As with metrics scraping, health polling or usage attribution on (the settings that make the operator
  // call proxies), without the scrapes themselves.
  op = await startOperator(
    [
      languageModelController({
        ...options.success,
        operatorPeer: { namespace: operatorNs, podLabels: OPERATOR_POD_LABELS },
      }),
    ],
    { resyncPeriodMs: 3_000 },
  )

  await applyIn(ns, model("gpt"))
  await applyIn(ns, model("premium", { fallbacks: [{ modelRef: "gpt" }] }))
  await applyIn(ns, model("other-model"))
  await applyIn(ns, agent("support", [{ name: "gpt" }]))
  await applyIn(ns, agent("bystander", [{ name: "other-model" }]))
  await applyIn(otherNs, agent("visitor", [{ name: "gpt", namespace: ns }]))

  await createWorkload(kc, ns, "support", commonLabels("LanguageAgent", "support"))
  await createWorkload(kc, ns, "bystander", commonLabels("LanguageAgent", "bystander"))
  await createWorkload(kc, ns, "stranger", { app: "stranger" })
  await createWorkload(kc, otherNs, "visitor", commonLabels("LanguageAgent", "visitor"))
  await createWorkload(kc, operatorNs, "langop-operator", OPERATOR_POD_LABELS)

  const pods: Record<Who, V1Pod> = {
    support: await runningPod(kc, ns, commonLabels("LanguageAgent", "support")),
    bystander: await runningPod(kc, ns, commonLabels("LanguageAgent", "bystander")),
    stranger: await runningPod(kc, ns, { app: "stranger" }),
    visitor: await runningPod(kc, otherNs, commonLabels("LanguageAgent", "visitor")),
    operator: await runningPod(kc, operatorNs, OPERATOR_POD_LABELS),
    premium: await runningPod(kc, ns, commonLabels("LanguageModel", "premium")),
  }
  const proxy = await runningPod(kc, ns, commonLabels("LanguageModel", "gpt"))
  await vi.waitFor(async () => {
    const r = await kubectl(["get", "networkpolicy", "gpt.ingress", "-n", ns, "-o", "json"])
    expect(r.exitCode, r.stderr).toBe(0)
  }, poll)
  world = { kc, ns, otherNs, operatorNs, proxy, pods }
})

afterAll(async () => {
  const w = world
  if (w !== undefined)
    for (const ns of [w.ns, w.otherNs])
      await kubectl(["delete", "languageagents,languagemodels", "--all", "-n", ns, "--wait=true"])
  await op?.stop()
  if (w !== undefined) for (const ns of [w.ns, w.otherNs, w.operatorNs]) await deleteNamespace(w.kc, ns)
})

const toProxy = (from: Who, port = 4000): ConnectionQuery => ({
  from: podRef(get().pods[from]),
  to: { pod: podRef(get().proxy) },
  port,
})

const verdicts = async (rows: ReadonlyArray<readonly [Who, number, boolean]>) => {
  const queries = rows.map(([from, port]) => toProxy(from, port))
  const answers = await evalConnections(queries)
  const text = (q: ConnectionQuery, allowed: boolean) =>
    `${describeQuery(q)}: ${allowed ? "allowed" : "denied"}`
  return {
    actual: answers.map((v) => text(v.query, v.allowed)),
    expected: rows.map(([, , allowed], i) => {
      const q = queries[i]
      return q === undefined ? "" : text(q, allowed)
    }),
  }
}

describe("the model proxy's ingress policy, checked by netpol-analyzer", () => {
  test("only the referencing agents, the chaining proxy and the operator reach the proxy, on its port only", async () => {
    const { actual, expected } = await verdicts([
      ["support", 4000, true],
      ["support", 4001, false],
      ["visitor", 4000, true],
      ["premium", 4000, true],
      ["operator", 4000, true],
      // Same namespace, but not a consumer: neither a plain pod nor an agent of another model.
      ["stranger", 4000, false],
      ["bystander", 4000, false],
    ])
    expect(actual).toEqual(expected)
  })

  test("a reference that goes takes its admission with it; a new one brings it", async () => {
    const w = get()
    await applyIn(w.otherNs, agent("visitor", [{ name: "other-model", namespace: w.ns }]))
    await applyIn(w.ns, agent("bystander", [{ name: "gpt" }]))
    await vi.waitFor(async () => {
      const { actual, expected } = await verdicts([
        ["visitor", 4000, false],
        ["bystander", 4000, true],
        ["support", 4000, true],
      ])
      expect(actual).toEqual(expected)
    }, poll)
  })
})
