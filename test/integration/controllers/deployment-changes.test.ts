// Changes to a running Deployment that server-side apply alone gets wrong, on the real control plane, for
// every kind that runs one:
// - switching the strategy RollingUpdate → Recreate → RollingUpdate (the API server's defaulted
//   `rollingUpdate` has no owner, so an apply of `Recreate` alone is rejected forever) — tools and clients
//   through `spec.updateStrategy`, agents through a ReadWriteOnce workspace;
// - enabling the HPA on a tool or client running 3 replicas with minReplicas 2: a watch on the Deployment
//   must never see fewer than 2 (letting go of `replicas` would reset it to 1 before the HPA acts).
import { Watch } from "@kubernetes/client-node"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import {
  clientControllerOptionsFromSettings,
  languageClientController,
} from "../../../src/controllers/languageclient/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { eventually } from "../runtime/support.ts"
import { kubectl, makeKubeConfig, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const TIMEOUT = 90_000
// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any

let operator: RunningOperator
const volumes: Array<string> = []

beforeAll(async () => {
  await installCrds()
  const settings = await Effect.runPromise(settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s" }))
  const tool = toolControllerOptionsFromSettings(settings)
  if (Result.isFailure(tool)) throw new Error(tool.failure)
  const agent = agentControllerOptionsFromSettings(settings)
  if (Result.isFailure(agent)) throw new Error(agent.failure)
  operator = await startOperator([
    languageToolController(tool.success),
    languageClientController(clientControllerOptionsFromSettings(settings)),
    languageAgentController(agent.success),
  ])
})

afterAll(async () => {
  await operator.stop()
  for (const pv of volumes) await kubectl(["delete", "pv", pv, "--ignore-not-found", "--wait=false"])
})

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
const get = async (what: string, namespace: string): Promise<Loose | undefined> => {
  const r = await kubectl(["get", what, "-n", namespace, "-o", "json", "--show-managed-fields"])
  if (r.exitCode !== 0) {
    if (/NotFound|not found/u.test(r.stderr)) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout)
}
const apply = (namespace: string, obj: Record<string, unknown>) =>
  must(
    ["apply", "-n", namespace, "--server-side", "--field-manager=test-user", "-f", "-"],
    JSON.stringify(obj),
  )

const obj = (kind: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name },
  spec,
})
const ready = (o: Loose) =>
  o?.status?.observedGeneration === o?.metadata.generation &&
  (o?.status?.conditions ?? []).some((c: Loose) => c.type === "Ready" && c.status === "True")

/** Waits until the object is Ready for its current generation and its Deployment has `strategy`. */
const readyWith = (namespace: string, kind: string, name: string, strategy: "Recreate" | "RollingUpdate") =>
  eventually(
    `${kind} ${name} Ready with a ${strategy} Deployment`,
    async () => {
      const o = await get(`${kind.toLowerCase()}/${name}`, namespace)
      if (!ready(o)) return undefined
      const d = await get(`deployment/${name}`, namespace)
      return d?.spec.strategy.type === strategy ? d : undefined
    },
    TIMEOUT,
  )

const model = (namespace: string) =>
  apply(namespace, obj("LanguageModel", "m", { provider: "openai", modelName: "gpt-4o-mini" }))

const setModelReady = (namespace: string) =>
  must([
    "patch",
    "languagemodel",
    "m",
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { phase: "Ready" } }),
  ])

/** A hostPath PV bound in advance to the agent's workspace claim (the test cluster has no provisioner). */
const workspaceVolume = async (namespace: string, claim: string) => {
  const name = uniqueName("pv")
  volumes.push(name)
  await must(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name, labels: { "langop.io/test": "true" } },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Delete",
        storageClassName: "",
        hostPath: { path: `/tmp/${name}` },
        claimRef: { namespace, name: claim },
      },
    }),
  )
}

describe("Deployment strategy changes", () => {
  test("a tool goes RollingUpdate → Recreate → RollingUpdate, Ready each time", async ({ namespace }) => {
    const tool = (updateStrategy?: Record<string, unknown>) =>
      obj("LanguageTool", "t1", {
        image: "example/tool:1",
        type: "mcp",
        port: 8080,
        ...(updateStrategy !== undefined ? { updateStrategy } : {}),
      })
    await apply(namespace, tool())
    const first = await readyWith(namespace, "languagetool", "t1", "RollingUpdate")
    expect(first.spec.strategy.rollingUpdate).toBeDefined() // the API server's default

    await apply(namespace, tool({ type: "Recreate" }))
    const recreate = await readyWith(namespace, "languagetool", "t1", "Recreate")
    expect(recreate.spec.strategy).toEqual({ type: "Recreate" })

    await apply(namespace, tool({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }))
    const rolling = await readyWith(namespace, "languagetool", "t1", "RollingUpdate")
    expect(rolling.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 })
  })

  test("a client goes RollingUpdate → Recreate → RollingUpdate, Ready each time", async ({ namespace }) => {
    await model(namespace)
    const client = (updateStrategy?: Record<string, unknown>) =>
      obj("LanguageClient", "c1", {
        image: "example/chat:1",
        replicas: 1,
        modelRefs: [{ name: "m" }],
        ...(updateStrategy !== undefined ? { updateStrategy } : {}),
      })
    await apply(namespace, client())
    await readyWith(namespace, "languageclient", "c1", "RollingUpdate")
    await apply(namespace, client({ type: "Recreate" }))
    const recreate = await readyWith(namespace, "languageclient", "c1", "Recreate")
    expect(recreate.spec.strategy).toEqual({ type: "Recreate" })
    // Back to the default by dropping updateStrategy altogether.
    await apply(namespace, client())
    const rolling = await readyWith(namespace, "languageclient", "c1", "RollingUpdate")
    expect(rolling.spec.strategy.rollingUpdate).toBeDefined()
  })

  test("an agent whose workspace turns ReadWriteOnce goes Recreate, and back without it", async ({
    namespace,
  }) => {
    await model(namespace)
    await setModelReady(namespace)
    await workspaceVolume(namespace, "a1-workspace")
    const agent = (workspace?: Record<string, unknown>) =>
      obj("LanguageAgent", "a1", {
        image: "example/agent:1",
        executionMode: "interactive",
        modelRefs: [{ name: "m" }],
        ...(workspace !== undefined ? { workspace } : {}),
      })
    await apply(namespace, agent())
    const first = await readyWith(namespace, "languageagent", "a1", "RollingUpdate")
    expect(first.spec.strategy.rollingUpdate).toBeDefined()
    await apply(namespace, agent({ enabled: true, size: "1Gi", accessMode: "ReadWriteOnce" }))
    const recreate = await readyWith(namespace, "languageagent", "a1", "Recreate")
    expect(recreate.spec.strategy).toEqual({ type: "Recreate" })
    expect(recreate.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: "workspace", persistentVolumeClaim: { claimName: "a1-workspace" } }),
    )
    await apply(namespace, agent({ enabled: false }))
    const rolling = await readyWith(namespace, "languageagent", "a1", "RollingUpdate")
    expect(rolling.spec.strategy.rollingUpdate).toBeDefined()
  })
})

/**
 * Every `spec.replicas` the Deployment takes from `resourceVersion` on (a watch sees each stored version).
 * Returns the values seen so far and a stop function.
 */
const watchReplicas = async (namespace: string, name: string, resourceVersion: string) => {
  const seen: Array<number> = []
  const errors: Array<unknown> = []
  const controller = await new Watch(makeKubeConfig()).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    { fieldSelector: `metadata.name=${name}`, resourceVersion },
    (_phase: string, d: Loose) => {
      if (typeof d?.spec?.replicas === "number") seen.push(d.spec.replicas)
    },
    (err: unknown) => {
      if (err !== null && err !== undefined) errors.push(err)
    },
  )
  return { seen, errors, stop: () => controller.abort() }
}

const managersOfReplicas = (d: Loose): ReadonlyArray<string> =>
  (d.metadata.managedFields ?? [])
    .filter((m: Loose) => m.fieldsV1?.["f:spec"]?.["f:replicas"] !== undefined)
    .map((m: Loose) => `${m.manager}/${m.operation}`)

describe("enabling the HPA on a running workload", () => {
  const hpaOn = { enabled: true, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 }

  const neverBelowMin = async (
    namespace: string,
    kind: string,
    name: string,
    spec: Record<string, unknown>,
  ) => {
    await apply(namespace, obj(kind, name, { ...spec, replicas: 3 }))
    const before = await eventually(
      `${kind} ${name} Ready with 3 replicas`,
      async () => {
        const o = await get(`${kind.toLowerCase()}/${name}`, namespace)
        const d = await get(`deployment/${name}`, namespace)
        return ready(o) && d?.spec.replicas === 3 && d.status?.readyReplicas === 3 ? d : undefined
      },
      TIMEOUT,
    )
    const watch = await watchReplicas(namespace, name, before.metadata.resourceVersion)
    try {
      await apply(namespace, obj(kind, name, { ...spec, replicas: 3, horizontalPodAutoscaler: hpaOn }))
      // The operator released `replicas` (its own apply no longer sets it) and the autoscaler has looked at
      // the Deployment at least once: any reset would have happened and any correction by the HPA too.
      const after = await eventually(
        "replicas handed over and the HPA evaluated",
        async () => {
          const d = await get(`deployment/${name}`, namespace)
          const hpa = await get(`horizontalpodautoscaler/${name}`, namespace)
          const ours = managersOfReplicas(d).includes("langop-operator/Apply")
          return !ours && (hpa?.status?.conditions ?? []).length > 0 ? d : undefined
        },
        TIMEOUT,
      )
      expect(watch.errors).toEqual([])
      expect(watch.seen.length).toBeGreaterThan(0)
      expect(Math.min(...watch.seen), `replicas seen: ${watch.seen.join(", ")}`).toBeGreaterThanOrEqual(2)
      expect(after.spec.replicas).toBe(3)
      const o = await eventually(
        `${kind} ${name} AutoscalingReady`,
        async () => {
          const x = await get(`${kind.toLowerCase()}/${name}`, namespace)
          return x?.status?.observedGeneration === x?.metadata.generation ? x : undefined
        },
        TIMEOUT,
      )
      expect(o.status.conditions).toContainEqual(
        expect.objectContaining({ type: "AutoscalingReady", status: "True", reason: "Applied" }),
      )
    } finally {
      watch.stop()
    }

    // Autoscaling off again: the spec's count is ours again.
    await apply(namespace, obj(kind, name, { ...spec, replicas: 4 }))
    await eventually(
      "HPA removed and replicas back under the operator",
      async () => {
        const d = await get(`deployment/${name}`, namespace)
        const hpa = await get(`horizontalpodautoscaler/${name}`, namespace)
        if (
          d?.spec.replicas === 4 &&
          managersOfReplicas(d).includes("langop-operator/Apply") &&
          hpa === undefined
        )
          return true
        throw new Error(
          `replicas ${d?.spec.replicas} owned by ${managersOfReplicas(d).join(", ")}; HPA ${hpa === undefined ? "gone" : "still there"}`,
        )
      },
      TIMEOUT,
    )
  }

  test("a tool at 3 replicas never drops below minReplicas 2", async ({ namespace }) => {
    await neverBelowMin(namespace, "LanguageTool", "t2", { image: "example/tool:1", type: "mcp", port: 8080 })
  })

  test("a client at 3 replicas never drops below minReplicas 2", async ({ namespace }) => {
    await model(namespace)
    await neverBelowMin(namespace, "LanguageClient", "c2", {
      image: "example/chat:1",
      modelRefs: [{ name: "m" }],
    })
  })
})
