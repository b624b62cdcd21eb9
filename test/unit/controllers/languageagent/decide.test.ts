import { describe, expect, it } from "vitest"
import type { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { ANNOTATION_APPLIED_HASH } from "../../../../src/controllers/common/apply.ts"
import { type ActOutcome, type AgentInput, decide } from "../../../../src/controllers/languageagent/decide.ts"
import type { Step } from "../../../../src/controllers/languageagent/plan.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { agent, input, model, NS, persona, T0, T1 } from "./fixtures.ts"

const ours = (
  a: LanguageAgent,
  kind: string,
  name: string,
  extra: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name,
    namespace: NS,
    uid: `uid-${kind}-${name}`,
    ownerReferences: [
      {
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageAgent",
        name: a.metadata.name ?? "",
        uid: a.metadata.uid ?? "",
        controller: true,
      },
    ],
  },
  ...extra,
})
const foreign = (kind: string, name: string): KubeObject => ({
  kind,
  metadata: {
    name,
    namespace: NS,
    uid: "x",
    ownerReferences: [
      { apiVersion: "apps/v1", kind: "Thing", name: "other", uid: "other", controller: true },
    ],
  },
})

const summary = (i: AgentInput, outcome: ActOutcome = {}) => {
  const d = decide(i)
  const f = d.finish(outcome)
  const s = f.status.status
  const conds = (s.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`)
  return { plan: d.plan, phase: s.phase, conds, requeue: f.requeue, status: f.status, message: s.message }
}

const step = (i: AgentInput, name: Step["name"]) => decide(i).plan?.steps.find((s) => s.name === name)
const kinds = (s: Step | undefined) => ({
  applies: s?.applies.map((a) => `${a.object.kind}/${a.object.metadata.name}`) ?? [],
  deletes: s?.deletes.map((d) => `${d.resource.kind}/${d.name}`) ?? [],
})

describe("decide: sequence", () => {
  it("an invalid spec fails without writing anything and is not requeued", () => {
    const r = summary(input(agent({ volumes: [{ name: "workspace", emptyDir: {} }] })))
    expect(r.plan).toBeUndefined()
    expect(r.phase).toBe("Failed")
    expect(r.conds).toEqual(["Ready=False/ReservedVolumeName", "Reconciled=False/ReconcileError"])
    expect(r.requeue).toBe("none")
  })

  it("cluster membership: missing/not Ready → wait; namespace mismatch → fail; member → cluster label", () => {
    const a = agent({ clusterRef: "demo" })
    expect(summary(input(a))).toMatchObject({ phase: "Pending", requeue: "dependencyWait", plan: undefined })
    expect(summary(input(a)).conds).toContain("DependenciesResolved=False/ClusterNotFound")
    expect(
      summary(input(a, {}, { cluster: { name: "demo", phase: "Pending", namespace: NS } })).conds,
    ).toContain("Ready=False/ClusterNotReady")
    const mismatch = summary(input(a, {}, { cluster: { name: "demo", phase: "Ready", namespace: "other" } }))
    expect(mismatch).toMatchObject({ phase: "Failed", requeue: "none" })
    expect(mismatch.conds).toContain("Ready=False/ClusterNamespaceMismatch")
    const member = decide(input(a, {}, { cluster: { name: "demo", phase: "Ready", namespace: NS } }))
    for (const s of member.plan?.steps ?? [])
      for (const o of s.applies)
        expect(o.object.metadata.labels?.["langop.io/cluster"], o.object.kind).toBe(
          s.name === "NetworkPolicy" ? undefined : "demo",
        )
  })

  it("a missing dependency is waited for; a running workload keeps its phase and is not touched", () => {
    const waiting = summary(input(agent({ modelRefs: [{ name: "gone" }] })))
    expect(waiting).toMatchObject({ plan: undefined, phase: "Pending", requeue: "dependencyWait" })
    expect(waiting.conds).toEqual([
      "DependenciesResolved=False/ModelNotFound",
      "PersonaResolved=True/NoPersona",
      "Ready=False/ModelNotFound",
      "Reconciled=False/ReconcileError",
    ])
    const running = agent(
      { modelRefs: [{ name: "gone" }] },
      { status: { phase: "Running", activeReplicas: 1, readyReplicas: 1 } },
    )
    const kept = summary(input(running))
    expect(kept.phase).toBe("Running")
    expect(kept.status.status).toMatchObject({ activeReplicas: 1, readyReplicas: 1 })
  })

  it("both conditions are reported; a persona in Error fails the agent", () => {
    const r = summary(
      input(agent({ modelRefs: [{ name: "gone" }], personaRef: { name: "p" } }), {
        personas: [persona("p", {}, { phase: "Error" })],
      }),
    )
    expect(r.conds).toContain("PersonaResolved=False/PersonaInvalid")
    expect(r.conds).toContain("DependenciesResolved=False/ModelNotFound")
    expect(r.phase).toBe("Failed")
    expect(r.requeue).toBe("dependencyWait")
  })
})

describe("decide: generated objects", () => {
  it("steps in the spec's order, every applied object hashed", () => {
    const d = decide(input(agent({ executionMode: "interactive", workspace: { enabled: true } })))
    expect(d.plan?.steps.map((s) => s.name)).toEqual([
      "ConfigMap",
      "Workspace",
      "Service",
      "RBAC",
      "NetworkPolicy",
      "Workload",
    ])
    const applied = d.plan?.steps.flatMap((s) =>
      s.applies.map((a) => `${a.object.kind}/${a.object.metadata.name}`),
    )
    expect(applied).toEqual([
      "ConfigMap/bot-agent",
      "PersistentVolumeClaim/bot-workspace",
      "Service/bot",
      "NetworkPolicy/bot",
      "Deployment/bot",
    ])
    for (const s of d.plan?.steps ?? [])
      for (const a of s.applies)
        expect(a.object.metadata.annotations?.[ANNOTATION_APPLIED_HASH]).toMatch(/^[0-9a-f]{64}$/u)
  })

  it("mode switches delete our other workload kind and the Service, never someone else's", () => {
    const sched = agent({ executionMode: "scheduled" })
    const live = { deployment: ours(sched, "Deployment", "bot"), service: ours(sched, "Service", "bot") }
    expect(kinds(step(input(sched, {}, { live }), "Workload"))).toEqual({
      applies: ["CronJob/bot"],
      deletes: ["Deployment/bot"],
    })
    expect(kinds(step(input(sched, {}, { live }), "Service"))).toEqual({
      applies: [],
      deletes: ["Service/bot"],
    })
    const auto = agent()
    expect(
      kinds(step(input(auto, {}, { live: { cronJob: ours(auto, "CronJob", "bot") } }), "Workload")),
    ).toEqual({
      applies: ["Deployment/bot"],
      deletes: ["CronJob/bot"],
    })
    expect(
      kinds(step(input(auto, {}, { live: { cronJob: foreign("CronJob", "bot") } }), "Workload")).deletes,
    ).toEqual([])
  })

  it("trigger support objects follow the triggers", () => {
    const ed = agent({
      executionMode: "event-driven",
      eventTriggers: [{ type: "webhook" }, { type: "kubernetes-event" }],
    })
    expect(kinds(step(input(ed), "RBAC")).applies).toEqual([
      "ServiceAccount/bot",
      "Role/bot-events",
      "RoleBinding/bot-events",
    ])
    expect(kinds(step(input(ed), "Service")).applies).toEqual(["Service/bot"])
    const none = agent({ executionMode: "event-driven" })
    const live = {
      serviceAccount: ours(none, "ServiceAccount", "bot"),
      role: ours(none, "Role", "bot-events"),
      roleBinding: ours(none, "RoleBinding", "bot-events"),
    }
    expect(kinds(step(input(none, {}, { live }), "RBAC"))).toEqual({
      applies: [],
      deletes: ["ServiceAccount/bot", "Role/bot-events", "RoleBinding/bot-events"],
    })
  })

  it("an object of someone else stops the sequence with NameConflict and is never written", () => {
    const i = input(agent(), {}, { live: { configMap: foreign("ConfigMap", "bot-agent") } })
    const s = step(i, "ConfigMap")
    expect(s?.applies).toEqual([])
    expect(s?.conflict).toContain('controlled by Thing "other"')
    if (s === undefined) throw new Error("fixture")
    const r = summary(i, { failed: { step: s, message: s.conflict ?? "", terminal: true } })
    expect(r.conds).toContain("Ready=False/NameConflict")
    expect(r.conds).toContain("Reconciled=False/ReconcileError")
    expect(r.phase).toBe("Failed")
    expect(r.requeue).toBe("dependencyWait")
  })

  it("the workspace PVC is never deleted, also when disabled", () => {
    const a = agent({ workspace: { enabled: false } })
    expect(
      kinds(
        step(
          input(a, {}, { live: { claim: ours(a, "PersistentVolumeClaim", "bot-workspace") } }),
          "Workspace",
        ),
      ),
    ).toEqual({ applies: [], deletes: [] })
  })
})

describe("decide: status", () => {
  const available = (a: LanguageAgent) =>
    ours(a, "Deployment", "bot", { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } })

  it("all steps done and a pod available → Running, Ready, every condition", () => {
    const a = agent({ goal: "Help" })
    const r = summary(input(a, {}, { live: { deployment: available(a) } }))
    expect(r.phase).toBe("Running")
    expect(r.conds).toEqual([
      "DependenciesResolved=True/Resolved",
      "EgressResolved=True/Resolved",
      "NetworkPolicyReady=True/Applied",
      "PersonaResolved=True/NoPersona",
      "Ready=True/ReconcileSuccess",
      "Reconciled=True/ReconcileSuccess",
      "WorkloadAvailable=True/Available",
      "WorkspaceReady=True/Disabled",
    ])
    expect(r.status.status).toMatchObject({
      observedGeneration: 1,
      activeReplicas: 1,
      readyReplicas: 1,
      currentGoal: "Help",
      reason: "ReconcileSuccess",
      message: "LanguageAgent is ready",
      lastUpdateTime: T1,
    })
    expect(r.status.changed).toBe(true)
    expect(r.status.events).toEqual([
      { type: "Normal", reason: "ReconcileSuccess", note: "LanguageAgent is ready" },
    ])
    expect(r.requeue).toBe("none")
  })

  it("reconciling again with the status it wrote changes nothing (no write, no event)", () => {
    const a = agent()
    const first = summary(input(a, {}, { live: { deployment: available(a) }, now: T0 }))
    const again = agent({}, { status: first.status.status as Record<string, unknown> })
    const second = summary(input(again, {}, { live: { deployment: available(again) }, now: T1 }))
    expect(second.status.changed).toBe(false)
    expect(second.status.events).toEqual([])
    expect(second.status.status.lastUpdateTime).toBe(T0)
  })

  it("a starting workload is Pending with Ready=False WorkloadNotAvailable (a Normal event)", () => {
    const r = summary(input(agent()))
    expect(r.phase).toBe("Pending")
    expect(r.conds).toContain("WorkloadAvailable=False/Progressing")
    expect(r.conds).toContain("Ready=False/WorkloadNotAvailable")
    expect(r.status.events[0]?.type).toBe("Normal")
  })

  it("a failed step reports its reason and keeps a running phase (transient) or fails (terminal)", () => {
    const a = agent({}, { status: { phase: "Running" } })
    const i = input(a)
    const workload = step(i, "Workload")
    if (workload === undefined) throw new Error("fixture")
    const transient = summary(i, { failed: { step: workload, message: "timeout", terminal: false } })
    expect(transient.phase).toBe("Running")
    expect(transient.conds).toContain("Ready=False/DeploymentError")
    expect(transient.conds).toContain("WorkloadAvailable=False/DeploymentError")
    expect(summary(i, { failed: { step: workload, message: "invalid", terminal: true } }).phase).toBe(
      "Failed",
    )
    const policy = step(i, "NetworkPolicy")
    if (policy === undefined) throw new Error("fixture")
    const np = summary(i, { failed: { step: policy, message: "denied", terminal: false } })
    expect(np.conds).toContain("NetworkPolicyReady=False/NetworkPolicyError")
    expect(np.conds).not.toContain("WorkloadAvailable=True/Available")
    // A foreign CiliumNetworkPolicy <name>-fqdn found while acting: a NameConflict, retried after the wait.
    const taken = summary(i, {
      failed: { step: policy, message: "CiliumNetworkPolicy taken", terminal: true, conflict: true },
    })
    expect(taken.conds).toContain("NetworkPolicyReady=False/NameConflict")
    expect(taken.conds).toContain("Ready=False/NameConflict")
    expect(taken.requeue).toBe("dependencyWait")
  })

  it("a workload that cannot be read: phase Unknown, WorkloadAvailable=Unknown, the workload left alone", () => {
    for (const [mode, reason, kind] of [
      ["autonomous", "DeploymentError", "Deployment"],
      ["scheduled", "CronJobError", "CronJob"],
    ] as const) {
      const a = agent({ executionMode: mode }, { status: { phase: "Running" } })
      const i: AgentInput = {
        ...input(a),
        workloadUnreadable: `cannot read ${kind} "${a.metadata.name}": the server is currently unable to handle the request`,
      }
      expect(step(i, "Workload")).toBeUndefined()
      expect(step(i, "ConfigMap")).toBeDefined()
      const r = summary(i)
      expect(r.phase).toBe("Unknown")
      expect(r.conds).toContain(`WorkloadAvailable=Unknown/${reason}`)
      expect(r.conds).toContain("Ready=False/WorkloadNotAvailable")
      expect(r.message).toContain("the workload's state is unknown")
      expect(r.requeue).toBe("dependencyWait")
      // Read again: the phase follows the workload once more.
      expect(summary(input(a)).phase).not.toBe("Unknown")
    }
  })

  it("a rejected storage increase is reported, the rest continues", () => {
    const r = summary(input(agent({ workspace: { enabled: true } })), { resizeFailed: "no expansion" })
    expect(r.conds).toContain("WorkspaceReady=False/WorkspaceResizeFailed")
  })

  it("scheduled mode: Running once the CronJob exists, execution counters from its Jobs, default-schedule note", () => {
    const a = agent({ executionMode: "scheduled" })
    const r = summary(
      input(
        a,
        {},
        {
          jobs: [
            {
              metadata: { name: "j1" },
              status: {
                startTime: "2025-01-01T00:00:00Z",
                completionTime: "2025-01-01T00:00:10Z",
                conditions: [{ type: "Complete", status: "True" }],
              },
            },
          ],
        },
      ),
    )
    expect(r.phase).toBe("Running")
    expect(r.conds).toContain("Ready=True/ReconcileSuccess")
    expect(r.status.status).toMatchObject({
      executionCount: 1,
      successfulExecutions: 1,
      failedExecutions: 0,
      lastExecutionResult: "Succeeded",
      metrics: { averageExecutionTime: 10, successRate: 100 },
    })
    expect(r.message).toBe('LanguageAgent is ready; spec.schedule is empty; running hourly ("0 * * * *")')
  })

  it("replicas 0 suspends; triggers outside event-driven mode are noted", () => {
    expect(summary(input(agent({ replicas: 0 }))).phase).toBe("Suspended")
    expect(summary(input(agent({ executionMode: "scheduled", schedule: "@daily", replicas: 0 }))).phase).toBe(
      "Suspended",
    )
    const a = agent({ eventTriggers: [{ type: "webhook" }] })
    expect(summary(input(a, {}, { live: { deployment: available(a) } })).message).toBe(
      "LanguageAgent is ready; spec.eventTriggers ignored in autonomous mode",
    )
  })

  it("DNS-derived egress requeues after the DNS refresh interval", () => {
    const a = agent({ egress: [{ to: { dns: ["api.example.com"] }, ports: [{ port: 443 }] }] })
    const world = {
      dns: new Map([["api.example.com", { _tag: "Resolved" as const, addresses: ["203.0.113.7"] }]]),
      services: new Map(),
    }
    expect(summary(input(a, {}, { world })).requeue).toBe("dnsRefresh")
  })

  it("with usage attribution the usage is read again at the scrape interval, once the plan is applied", () => {
    const a = agent()
    expect(decide({ ...input(a), usageAttribution: true }).finish({}).refreshUsage).toBe(true)
    expect(decide(input(a)).finish({}).refreshUsage).toBe(false)
    const i = { ...input(a), usageAttribution: true }
    const workload = step(i, "Workload")
    if (workload === undefined) throw new Error("fixture")
    expect(decide(i).finish({ failed: { step: workload, message: "x", terminal: false } }).refreshUsage).toBe(
      false,
    )
  })

  it("usage samples become modelUsage, totalTokens and costs", () => {
    const a = agent()
    const r = summary(
      input(
        a,
        { models: [model("m1", { costTracking: { enabled: true, inputTokenCost: 1, outputTokenCost: 2 } })] },
        {
          usage: [
            {
              modelNamespace: NS,
              modelName: "m1",
              requestCount: 3,
              inputTokens: 1000,
              outputTokens: 1000,
              since: T0,
            },
          ],
        },
      ),
    )
    expect(r.status.status).toMatchObject({
      modelUsage: [{ modelName: "m1", requestCount: 3, totalTokens: 2000 }],
      metrics: { totalTokens: 2000 },
      costMetrics: {
        totalCost: 3,
        currency: "USD",
        modelCosts: [{ modelName: "m1", cost: 3 }],
        lastReset: T0,
      },
    })
    expect(summary(input(a)).status.status).not.toHaveProperty("modelUsage")
  })
})

describe("decide: fields reported by others", () => {
  it("runtime-reported status fields are neither compared nor taken over", () => {
    const a = agent()
    const deployment = ours(a, "Deployment", "bot", {
      status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 },
    })
    const first = summary(input(a, {}, { live: { deployment }, now: T0 }))
    const withRuntime = agent(
      {},
      {
        status: {
          ...(first.status.status as Record<string, unknown>),
          iterationCount: 7,
          activeConversations: 2,
          metrics: { averageIterations: 3, totalToolCalls: 12 },
        },
      },
    )
    const second = summary(input(withRuntime, {}, { live: { deployment }, now: T1 }))
    expect(second.status.changed).toBe(false)
    expect(second.status.status).not.toHaveProperty("iterationCount")
    expect(second.status.status).not.toHaveProperty("metrics")
  })
})

describe("decide: automatic egress", () => {
  it("message-queue brokers of event-driven agents get an egress rule on the scheme's default port", () => {
    const a = agent({
      executionMode: "event-driven",
      eventTriggers: [{ type: "message-queue", source: "amqps://broker.example.com/q" }],
    })
    const world = {
      dns: new Map([["broker.example.com", { _tag: "Resolved" as const, addresses: ["198.51.100.4"] }]]),
      services: new Map(),
    }
    const policy = decide(input(a, {}, { world })).plan?.steps.find((s) => s.name === "NetworkPolicy")
      ?.applies[0]?.object
    expect(JSON.stringify(policy?.spec)).toContain(
      '{"to":[{"ipBlock":{"cidr":"198.51.100.4/32"}}],"ports":[{"protocol":"TCP","port":5671}]}',
    )
  })
  it("models and tools in other namespaces are reachable through automatic rules", () => {
    const a = agent({ modelRefs: [{ name: "shared", namespace: "models" }] })
    const policy = decide(
      input(a, { models: [model("shared", {}, { namespace: "models" })] }),
    ).plan?.steps.find((s) => s.name === "NetworkPolicy")?.applies[0]?.object
    expect(JSON.stringify(policy?.spec)).toContain('"kubernetes.io/metadata.name":"models"')
    expect(JSON.stringify(policy?.spec)).toContain('"port":4000')
  })
})
