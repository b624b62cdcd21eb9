import { describe, expect, it } from "vitest"
import {
  countExecutions,
  cronJobState,
  deploymentState,
  type LiveJob,
  type LivePod,
  usageStatus,
} from "../../../../src/controllers/languageagent/observe.ts"
import { decideWorkspace, quantityValue } from "../../../../src/controllers/languageagent/workspace.ts"
import { agent } from "./fixtures.ts"

const waiting = (name: string, reason: string, init = false): LivePod => ({
  metadata: { name },
  status: {
    [init ? "initContainerStatuses" : "containerStatuses"]: [
      { name: init ? "tool-x" : "agent", state: { waiting: { reason, message: "boom" } } },
    ],
  },
})

describe("deploymentState", () => {
  const state = (
    replicas: number,
    status: Record<string, unknown> | undefined,
    pods: ReadonlyArray<LivePod> = [],
  ) => {
    const s = deploymentState(replicas, status === undefined ? undefined : { status }, pods)
    return `${s.phase} ${s.condition.status}/${s.condition.reason} ${s.activeReplicas}/${s.readyReplicas}`
  }
  it.each([
    ["replicas 0 → Suspended", 0, { replicas: 0 }, [], "Suspended True/Suspended 0/0"],
    ["no Deployment yet → Pending", 1, undefined, [], "Pending False/Progressing 0/0"],
    [
      "one available → Running",
      2,
      { replicas: 2, readyReplicas: 1, availableReplicas: 1 },
      [],
      "Running True/Available 2/1",
    ],
    [
      "ReplicaFailure (Pods denied at admission) → Failed",
      1,
      { conditions: [{ type: "ReplicaFailure", status: "True", message: "pods denied" }] },
      [],
      "Failed False/PodsFailing 0/0",
    ],
    [
      "ProgressDeadlineExceeded → Failed",
      1,
      {
        replicas: 1,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      },
      [],
      "Failed False/PodsFailing 1/0",
    ],
    [
      "CrashLoopBackOff → Failed",
      1,
      { replicas: 1 },
      [waiting("p", "CrashLoopBackOff")],
      "Failed False/PodsFailing 1/0",
    ],
    [
      "an injected sidecar in ImagePullBackOff → Failed",
      1,
      { replicas: 1 },
      [waiting("p", "ImagePullBackOff", true)],
      "Failed False/PodsFailing 1/0",
    ],
    [
      "ContainerCreating is still Pending",
      1,
      { replicas: 1 },
      [waiting("p", "ContainerCreating")],
      "Pending False/Progressing 1/0",
    ],
  ])("%s", (_name, replicas, status, pods, expected) =>
    expect(
      state(
        replicas as number,
        status as Record<string, unknown> | undefined,
        pods as ReadonlyArray<LivePod>,
      ),
    ).toBe(expected),
  )
  it("copies the failure text into the condition message", () => {
    expect(deploymentState(1, { status: {} }, [waiting("p-1", "ErrImagePull")]).condition.message).toBe(
      "pod p-1 container agent: ErrImagePull: boom",
    )
    expect(
      deploymentState(
        1,
        {
          status: {
            conditions: [{ type: "ReplicaFailure", status: "True", message: "admission webhook denied" }],
          },
        },
        [],
      ).condition.message,
    ).toBe("admission webhook denied")
  })
})

const job = (
  name: string,
  result: "Complete" | "Failed" | "Running",
  start: string,
  end?: string,
  extra: Record<string, unknown> = {},
): LiveJob => ({
  metadata: { name },
  status: {
    startTime: start,
    ...(result === "Complete" && end !== undefined ? { completionTime: end } : {}),
    ...(result === "Running" ? { ready: 1 } : {}),
    conditions:
      result === "Running"
        ? []
        : [
            {
              type: result,
              status: "True",
              ...(result === "Failed" ? { reason: "BackoffLimitExceeded" } : {}),
              ...(end !== undefined ? { lastTransitionTime: end } : {}),
            },
          ],
    ...extra,
  },
})

describe("scheduled mode", () => {
  it("cronJobState: Running (Scheduled) or Suspended; active and ready from unfinished Jobs", () => {
    const jobs = [
      job("a", "Running", "2025-01-01T00:00:00Z"),
      job("b", "Complete", "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z"),
    ]
    expect(cronJobState(false, jobs)).toMatchObject({
      phase: "Running",
      activeReplicas: 1,
      readyReplicas: 1,
      condition: { reason: "Scheduled" },
    })
    expect(cronJobState(true, [])).toMatchObject({
      phase: "Suspended",
      condition: { status: "True", reason: "Suspended" },
    })
  })

  it("counts finished Jobs newer than lastExecutionTime in finish order; running mean of successes", () => {
    const jobs = [
      job("j3", "Complete", "2025-01-01T03:00:00Z", "2025-01-01T03:00:30Z"),
      job("j1", "Complete", "2025-01-01T01:00:00Z", "2025-01-01T01:01:00Z"),
      job("j2", "Failed", "2025-01-01T02:00:00Z", "2025-01-01T02:05:00Z"),
      job("j4", "Running", "2025-01-01T04:00:00Z"),
    ]
    const first = countExecutions({}, jobs)
    expect(first).toEqual({
      executionCount: 3,
      successfulExecutions: 2,
      failedExecutions: 1,
      lastExecutionTime: "2025-01-01T03:00:30Z",
      lastExecutionResult: "Succeeded",
      averageExecutionTime: 45,
      successRate: (2 * 100) / 3,
    })
    // Counting again with the same Jobs changes nothing (idempotent).
    expect(countExecutions(first, jobs)).toEqual(first)
    // The CronJob dropped old Jobs; a new failure is added to the kept totals.
    const next = countExecutions(first, [job("j5", "Failed", "2025-01-01T05:00:00Z", "2025-01-01T05:00:10Z")])
    expect(next).toMatchObject({
      executionCount: 4,
      successfulExecutions: 2,
      failedExecutions: 2,
      lastExecutionResult: "Failed: BackoffLimitExceeded",
      successRate: 50,
      averageExecutionTime: 45,
    })
  })

  it("no finished Job: counters stay unset", () => {
    expect(countExecutions({}, [job("j", "Running", "2025-01-01T00:00:00Z")])).toEqual({})
  })
})

describe("usage attribution (docs/languageagent.md AG-12)", () => {
  const s = (model: string, input: number, output: number, since = "2025-01-01T00:00:00Z") => {
    const [modelNamespace = "", modelName = ""] = model.split("/")
    return { modelNamespace, modelName, requestCount: 2, inputTokens: input, outputTokens: output, since }
  }
  const price = (
    model: string,
    rest: { enabled: boolean; currency: string; inputTokenCost?: number; outputTokenCost?: number },
  ) => {
    const [namespace = "", name = ""] = model.split("/")
    return { namespace, name, ...rest }
  }
  it("without samples nothing is set", () => expect(usageStatus([], [])).toEqual({}))
  it("sums per model, prices models with cost tracking, totals a single currency", () => {
    const u = usageStatus(
      [s("ns/gpt", 1000, 2000), s("ns/gpt", 1000, 0, "2024-12-31T00:00:00Z"), s("ns/llama", 500, 500)],
      [
        price("ns/gpt", { enabled: true, currency: "USD", inputTokenCost: 0.5, outputTokenCost: 1 }),
        price("ns/llama", { enabled: false, currency: "USD" }),
      ],
    )
    expect(u.modelUsage).toEqual([
      {
        modelName: "gpt",
        modelNamespace: "ns",
        requestCount: 4,
        totalTokens: 4000,
        inputTokens: 2000,
        outputTokens: 2000,
      },
      {
        modelName: "llama",
        modelNamespace: "ns",
        requestCount: 2,
        totalTokens: 1000,
        inputTokens: 500,
        outputTokens: 500,
      },
    ])
    expect(u.totalTokens).toBe(5000)
    expect(u.costMetrics).toEqual({
      modelCosts: [{ modelName: "gpt", modelNamespace: "ns", cost: 3 }],
      totalCost: 3,
      currency: "USD",
      lastReset: "2024-12-31T00:00:00Z",
    })
  })
  it("models of the same name in two namespaces are counted and priced apart", () => {
    const u = usageStatus(
      [s("team-a/gpt", 1000, 0), s("team-b/gpt", 3000, 0)],
      [
        price("team-a/gpt", { enabled: true, currency: "USD", inputTokenCost: 1 }),
        price("team-b/gpt", { enabled: true, currency: "USD", inputTokenCost: 10 }),
      ],
    )
    expect(u.modelUsage?.map((m) => `${m.modelNamespace}/${m.modelName} ${m.inputTokens}`)).toEqual([
      "team-a/gpt 1000",
      "team-b/gpt 3000",
    ])
    expect(u.costMetrics).toMatchObject({
      modelCosts: [
        { modelName: "gpt", modelNamespace: "team-a", cost: 1 },
        { modelName: "gpt", modelNamespace: "team-b", cost: 30 },
      ],
      totalCost: 31,
    })
  })
  it("mixed currencies leave totalCost and currency unset", () => {
    const u = usageStatus(
      [s("ns/a", 1000, 0), s("ns/b", 1000, 0)],
      [
        price("ns/a", { enabled: true, currency: "USD", inputTokenCost: 1 }),
        price("ns/b", { enabled: true, currency: "EUR", inputTokenCost: 1 }),
      ],
    )
    expect(u.costMetrics).toEqual({
      modelCosts: [
        { modelName: "a", modelNamespace: "ns", cost: 1 },
        { modelName: "b", modelNamespace: "ns", cost: 1 },
      ],
      lastReset: "2025-01-01T00:00:00Z",
    })
  })
})

describe("workspace PVC", () => {
  const ws = (workspace: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
    agent({ ...(workspace === undefined ? {} : { workspace }), ...extra })
  const live = (storage: string, extra: Record<string, unknown> = {}) => ({
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "standard",
      resources: { requests: { storage } },
      ...extra,
    },
    status: { phase: "Bound" },
  })

  it("no workspace object or enabled: false → nothing applied (an existing PVC is kept)", () => {
    expect(decideWorkspace(ws(undefined), undefined, undefined)).toMatchObject({
      claim: undefined,
      condition: { status: "True", reason: "Disabled" },
    })
    const kept = decideWorkspace(ws({ enabled: false }), live("1Gi"), undefined)
    expect(kept.claim).toBeUndefined()
    expect(kept.condition.message).toContain("kept")
  })

  it("created with access mode, size and class", () => {
    const d = decideWorkspace(
      ws({ enabled: true, size: "5Gi", storageClassName: "fast", accessMode: "ReadWriteMany" }),
      undefined,
      "demo",
    )
    expect(d.claim?.spec).toEqual({
      accessModes: ["ReadWriteMany"],
      storageClassName: "fast",
      resources: { requests: { storage: "5Gi" } },
    })
    expect(d.claim?.metadata.labels["langop.io/cluster"]).toBe("demo")
    expect(d.condition).toMatchObject({ status: "False", reason: "Pending" })
    expect(d.condition.message).toContain('StorageClass "fast" to provision one')
    expect(decideWorkspace(ws({ enabled: true }), undefined, undefined).claim?.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "10Gi" } },
    })
  })

  it("existing claim: the live immutable fields are repeated; only a larger size is applied", () => {
    const same = decideWorkspace(ws({ enabled: true, size: "1Gi" }), live("1Gi"), undefined)
    expect(same).toMatchObject({ resize: false, condition: { status: "True", reason: "Bound" } })
    expect(same.claim?.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "standard",
      resources: { requests: { storage: "1Gi" } },
    })
    const grow = decideWorkspace(ws({ enabled: true, size: "2Gi" }), live("1024Mi"), undefined)
    expect(grow.resize).toBe(true)
    expect(grow.claim?.spec.resources.requests.storage).toBe("2Gi")
    expect(grow.condition.message).toContain("raised from 1024Mi to 2Gi")
  })

  it("smaller size, other access mode or other class → WorkspaceImmutable, live spec kept", () => {
    for (const [w, why] of [
      [{ enabled: true, size: "512Mi" }, "cannot shrink"],
      [{ enabled: true, size: "1Gi", accessMode: "ReadWriteMany" }, "access mode"],
      [{ enabled: true, size: "1Gi", storageClassName: "fast" }, "storage class"],
    ] as const) {
      const d = decideWorkspace(ws(w), live("1Gi"), undefined)
      expect(d.condition).toMatchObject({ status: "False", reason: "WorkspaceImmutable" })
      expect(d.condition.message).toContain(why)
      expect(d.claim?.spec).toEqual({
        accessModes: ["ReadWriteOnce"],
        storageClassName: "standard",
        resources: { requests: { storage: "1Gi" } },
      })
    }
  })

  it("not yet bound is not ready (False/Pending); a lost volume is an error; RWO with several replicas is warned about", () => {
    const pending = decideWorkspace(
      ws({ enabled: true, size: "1Gi" }),
      { ...live("1Gi"), status: { phase: "Pending" } },
      undefined,
    ).condition
    expect(pending).toMatchObject({ status: "False", reason: "Pending" })
    expect(pending.message).toContain("is Pending, waiting for a volume to be bound")
    expect(
      decideWorkspace(
        ws({ enabled: true, size: "1Gi" }),
        { ...live("1Gi"), status: { phase: "Lost" } },
        undefined,
      ).condition,
    ).toMatchObject({
      status: "False",
      reason: "PVCError",
    })
    expect(
      decideWorkspace(ws({ enabled: true, size: "1Gi" }, { replicas: 2 }), live("1Gi"), undefined).condition
        .message,
    ).toContain("2 replicas share a ReadWriteOnce workspace")
  })

  it.each([
    ["1Gi", 2 ** 30],
    ["1024Mi", 2 ** 30],
    ["1G", 1e9],
    ["500m", 0.5],
    ["1.5Ki", 1536],
    ["1e3", 1000],
    ["x", undefined],
  ])("quantityValue(%s) = %s", (q, v) => expect(quantityValue(q)).toBe(v))
})
