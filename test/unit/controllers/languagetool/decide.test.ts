import { describe, expect, it } from "vitest"
import type { Condition } from "../../../../src/api/shared.ts"
import {
  type ChildApply,
  decide,
  type LiveChildren,
  type ToolPlan,
  wantedRoles,
} from "../../../../src/controllers/languagetool/decide.ts"
import { decideStatus, type Observed } from "../../../../src/controllers/languagetool/status.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { deploymentWith, egressOf, input, LATER, NOW, tool } from "./fixtures.ts"

const cond = (list: ReadonlyArray<Condition> | undefined, type: string) => list?.find((c) => c.type === type)
const roles = (plan: ToolPlan) => (plan._tag === "Reconcile" ? plan.apply.map((a) => a.role) : [])
const reconcile = (plan: ToolPlan) => {
  if (plan._tag !== "Reconcile") throw new Error(`expected a Reconcile plan, got ${plan._tag}`)
  return plan
}
const ok: Observed = { deployment: undefined, errors: [] }
const readyCluster = { name: "demo", phase: "Ready", namespace: "demo" }

/** The live objects as the API server would hold them after applying `plan` (ours, same content). */
const liveFrom = (apply: ReadonlyArray<ChildApply>): LiveChildren =>
  Object.fromEntries(
    apply.map((a) => [
      a.role,
      { ...a.desired, metadata: { ...a.desired.metadata, uid: `uid-${a.role}`, resourceVersion: "9" } },
    ]),
  )

const foreign = (kind: string, name: string): KubeObject => ({
  metadata: {
    name,
    uid: "uid-other",
    ownerReferences: [{ apiVersion: "langop.io/v1alpha1", kind, name, uid: "uid-agent", controller: true }],
  },
})

describe("LanguageTool decide: validation and membership", () => {
  it.each([
    ["upper case name", { name: "Web" }, "InvalidName"],
    ["name starting with a digit", { name: "1tool" }, "InvalidName"],
    ["64-character name", { name: `a${"b".repeat(63)}` }, "InvalidName"],
    [
      "59-character name in sidecar mode",
      { name: `a${"b".repeat(58)}`, spec: { deploymentMode: "sidecar" } },
      "InvalidName",
    ],
    [
      "PDB with both bounds",
      { spec: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } },
      "InvalidSpec",
    ],
    [
      "rollingUpdate with Recreate",
      { spec: { updateStrategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } } },
      "InvalidSpec",
    ],
    [
      "HPA min above max",
      { spec: { horizontalPodAutoscaler: { enabled: true, minReplicas: 5, maxReplicas: 2 } } },
      "InvalidSpec",
    ],
  ] as const)("%s → Failed/%s, nothing written", (_what, over, reason) => {
    const t = tool(over)
    const plan = decide(input(t))
    expect(plan).toMatchObject({ _tag: "Blocked", reason, phase: "Failed", wait: false })
    const s = decideStatus(input(t), plan, ok)
    expect(s.status.phase).toBe("Failed")
    expect(cond(s.status.conditions, "Ready")).toMatchObject({ status: "False", reason })
    expect(s.status.reason).toBe(reason)
    expect(s.events).toEqual([expect.objectContaining({ type: "Warning", reason })])
  })

  it("58 characters are fine in sidecar mode, 63 in service mode", () => {
    expect(
      decide(input(tool({ name: `a${"b".repeat(57)}`, spec: { deploymentMode: "sidecar" } })))._tag,
    ).toBe("Reconcile")
    expect(decide(input(tool({ name: `a${"b".repeat(62)}` })))._tag).toBe("Reconcile")
  })

  it("lists every spec problem in one message", () => {
    const plan = decide(
      input(
        tool({
          spec: {
            podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 },
            horizontalPodAutoscaler: { enabled: true, minReplicas: 5, maxReplicas: 2 },
          },
        }),
      ),
    )
    expect(plan._tag === "Blocked" ? plan.message.split("; ") : []).toHaveLength(2)
  })

  it("waits for a missing or not-Ready cluster (Pending, requeue); refuses a namespace mismatch (Failed)", () => {
    const t = tool({ spec: { clusterRef: "demo" } })
    expect(decide(input(t))).toMatchObject({
      _tag: "Blocked",
      reason: "ClusterNotFound",
      phase: "Pending",
      wait: true,
    })
    expect(decide(input(t, { cluster: { name: "demo", phase: "Pending" } }))).toMatchObject({
      reason: "ClusterNotReady",
      wait: true,
    })
    const mismatch = decide(input(t, { cluster: { name: "demo", phase: "Ready", namespace: "other" } }))
    expect(mismatch).toMatchObject({
      _tag: "Blocked",
      reason: "ClusterNamespaceMismatch",
      phase: "Failed",
      wait: false,
    })
  })

  it("a member labels every generated object (never selectors) with langop.io/cluster", () => {
    const plan = reconcile(decide(input(tool({ spec: { clusterRef: "demo" } }), { cluster: readyCluster })))
    for (const a of plan.apply) expect(a.desired.metadata.labels?.["langop.io/cluster"]).toBe("demo")
    const deployment = plan.apply.find((a) => a.role === "deployment")?.desired as unknown as {
      spec: { selector: { matchLabels: object } }
    }
    expect(deployment.spec.selector.matchLabels).not.toHaveProperty("langop.io/cluster")
  })

  it("adds the finalizer only when missing", () => {
    expect(decide(input(tool({ finalizers: [] }))).addFinalizer).toBe(true)
    expect(decide(input(tool())).addFinalizer).toBe(false)
  })
})

describe("LanguageTool decide: children", () => {
  it("service mode: ConfigMap, Deployment, Service, NetworkPolicy; PDB and HPA only when configured", () => {
    expect(roles(decide(input(tool())))).toEqual(["configMap", "deployment", "service", "networkPolicy"])
    const full = tool({
      spec: { podDisruptionBudget: { maxUnavailable: 1 }, horizontalPodAutoscaler: { enabled: true } },
    })
    expect(roles(decide(input(full)))).toEqual([
      "configMap",
      "deployment",
      "service",
      "pdb",
      "hpa",
      "networkPolicy",
    ])
    expect(wantedRoles(full)).toEqual(["configMap", "deployment", "service", "pdb", "hpa", "networkPolicy"])
  })

  it("the NetworkPolicy is the src/network egress policy, owned by the tool", () => {
    const t = tool({ spec: { egress: [{ to: { dns: ["*"] }, ports: [{ port: 443 }] }] } })
    const np = reconcile(decide(input(t))).apply.find((a) => a.role === "networkPolicy")?.desired
    expect(np?.spec).toEqual(egressOf(t).policy.spec)
    expect(np?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageTool", uid: "uid-tool", controller: true }),
    ])
  })

  it("every child is marked changed when absent, and unchanged when the live object matches (no write)", () => {
    const first = reconcile(decide(input(tool())))
    expect(first.apply.every((a) => a.changed)).toBe(true)
    const second = reconcile(decide(input(tool(), { live: liveFrom(first.apply) })))
    expect(second.apply.map((a) => [a.role, a.changed])).toEqual(second.apply.map((a) => [a.role, false]))
    expect(second.delete).toEqual([])
  })

  it("a spec change marks exactly the affected children changed", () => {
    const first = reconcile(decide(input(tool())))
    const edited = tool({ spec: { env: [{ name: "A", value: "1" }] } })
    const next = reconcile(decide(input(edited, { live: liveFrom(first.apply) })))
    expect(next.apply.filter((a) => a.changed).map((a) => a.role)).toEqual(["configMap", "deployment"])
  })

  it("a removed field is detected even though the live object still contains the new desired one", () => {
    const withAnnotations = tool({ spec: { serviceAnnotations: { a: "1" } } })
    const first = reconcile(decide(input(withAnnotations)))
    const next = reconcile(decide(input(tool(), { live: liveFrom(first.apply) })))
    expect(next.apply.find((a) => a.role === "service")?.changed).toBe(true)
  })

  it("never writes a child controlled by someone else: NameConflict, the rest is still applied", () => {
    const i = input(tool(), { live: { deployment: foreign("LanguageAgent", "web-fetch") } })
    const plan = reconcile(decide(i))
    expect(roles(plan)).toEqual(["configMap", "service", "networkPolicy"])
    expect(plan.conflicts).toEqual([
      {
        role: "deployment",
        message: 'Deployment "web-fetch" is controlled by LanguageAgent "web-fetch"; rename one of them',
      },
    ])
    const s = decideStatus(i, plan, ok)
    expect(s.status.phase).toBe("Failed")
    expect(cond(s.status.conditions, "Ready")).toMatchObject({ status: "False", reason: "NameConflict" })
    expect(cond(s.status.conditions, "Reconciled")).toMatchObject({
      status: "False",
      reason: "ReconcileError",
    })
  })

  it("adopts an unowned child (no controller reference) by applying over it", () => {
    const plan = reconcile(
      decide(input(tool(), { live: { service: { metadata: { name: "web-fetch", uid: "u" } } } })),
    )
    expect(plan.apply.find((a) => a.role === "service")?.changed).toBe(true)
    expect(plan.conflicts).toEqual([])
  })

  it("sidecar mode: only the ConfigMap; deletes our Deployment/Service/PDB/HPA/NetworkPolicy, never foreign ones", () => {
    const service = reconcile(
      decide(
        input(
          tool({
            spec: { podDisruptionBudget: { maxUnavailable: 1 }, horizontalPodAutoscaler: { enabled: true } },
          }),
        ),
      ),
    )
    const live = liveFrom(service.apply)
    const sidecar = tool({ spec: { deploymentMode: "sidecar" } })
    const plan = reconcile(
      decide(input(sidecar, { live: { ...live, service: foreign("LanguageAgent", "web-fetch") } })),
    )
    expect(plan.mode).toBe("sidecar")
    expect(roles(plan)).toEqual(["configMap"])
    expect(plan.delete).toEqual([
      { role: "deployment", name: "web-fetch", uid: "uid-deployment" },
      { role: "pdb", name: "web-fetch", uid: "uid-pdb" },
      { role: "hpa", name: "web-fetch", uid: "uid-hpa" },
      { role: "networkPolicy", name: "web-fetch", uid: "uid-networkPolicy" },
    ])
  })

  it("removing the PDB or disabling the HPA deletes them", () => {
    const full = reconcile(
      decide(
        input(
          tool({
            spec: { podDisruptionBudget: { maxUnavailable: 1 }, horizontalPodAutoscaler: { enabled: true } },
          }),
        ),
      ),
    )
    const plan = reconcile(
      decide(
        input(tool({ spec: { horizontalPodAutoscaler: { enabled: false } } }), {
          live: liveFrom(full.apply),
        }),
      ),
    )
    expect(plan.delete.map((d) => d.role)).toEqual(["pdb", "hpa"])
  })

  it("requeues after the DNS refresh only when the egress builder asks for it", () => {
    const t = tool()
    expect(reconcile(decide(input(t))).requeueDns).toBe(false)
    const dynamic = { ...egressOf(t), requeueForDns: true }
    expect(reconcile(decide(input(t, { egress: dynamic }))).requeueDns).toBe(true)
  })
})

describe("LanguageTool decideStatus", () => {
  it("service mode, running: Ready, conditions, Service endpoint, replica counters copied from the Deployment", () => {
    const t = tool({ spec: { horizontalPodAutoscaler: { enabled: true, maxReplicas: 5 } } })
    const i = input(t)
    const s = decideStatus(i, decide(i), {
      deployment: deploymentWith(2, { ready: 2, available: 2, updated: 2 }),
      errors: [],
    })
    expect(s.status).toMatchObject({
      observedGeneration: 1,
      phase: "Running",
      endpoint: "http://web-fetch.demo.svc.cluster.local:8080",
      readyReplicas: 2,
      availableReplicas: 2,
      updatedReplicas: 2,
      unavailableReplicas: 0,
      reason: "ReconcileSuccess",
      message: "2 of 2 pods ready",
      lastUpdateTime: NOW,
      lastTransitionTime: NOW,
    })
    expect(
      Object.fromEntries((s.status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`])),
    ).toEqual({
      AutoscalingReady: "True/Applied",
      EgressResolved: "True/Resolved",
      NetworkPolicyReady: "True/Applied",
      Ready: "True/ReconcileSuccess",
      Reconciled: "True/ReconcileSuccess",
      WorkloadAvailable: "True/ReconcileSuccess",
    })
    expect(s.events).toEqual([{ type: "Normal", reason: "ReconcileSuccess", note: "2 of 2 pods ready" }])
  })

  it("uses the cluster domain setting in the endpoint", () => {
    const i = input(tool(), { clusterDomain: "corp.internal" })
    expect(decideStatus(i, decide(i), ok).status.endpoint).toBe(
      "http://web-fetch.demo.svc.corp.internal:8080",
    )
  })

  it("is idempotent: its own status fed back changes nothing (no write, same timestamps, no event)", () => {
    const t = tool()
    const observed = { deployment: deploymentWith(1, { ready: 1 }), errors: [] }
    const first = decideStatus(input(t), decide(input(t)), observed)
    const again = tool({ status: first.status as Record<string, unknown> })
    const second = decideStatus({ ...input(again), now: LATER }, decide(input(again)), observed)
    expect(second.statusChanged).toBe(false)
    expect(second.status).toEqual(first.status)
    expect(second.events).toEqual([])
  })

  it("lastUpdateTime moves when another field changes; lastTransitionTime only when the phase changes", () => {
    const t = tool()
    const first = decideStatus(input(t), decide(input(t)), {
      deployment: deploymentWith(2, { ready: 1, unavailable: 1 }),
      errors: [],
    })
    const t2 = tool({ status: first.status as Record<string, unknown> })
    const more = decideStatus({ ...input(t2), now: LATER }, decide(input(t2)), {
      deployment: deploymentWith(2, { ready: 2 }),
      errors: [],
    })
    expect(more.statusChanged).toBe(true)
    expect(more.status.lastUpdateTime).toBe(LATER)
    expect(more.status.lastTransitionTime).toBe(NOW)
    const t3 = tool({ status: more.status as Record<string, unknown> })
    const updating = decideStatus({ ...input(t3), now: "2025-11-02T00:00:00Z" }, decide(input(t3)), {
      deployment: deploymentWith(2, { ready: 2, updated: 1 }),
      errors: [],
    })
    expect(updating.status.phase).toBe("Updating")
    expect(updating.status.lastTransitionTime).toBe("2025-11-02T00:00:00Z")
    expect(cond(updating.status.conditions, "Ready")).toMatchObject({ status: "False", reason: "Updating" })
    expect(cond(updating.status.conditions, "WorkloadAvailable")).toMatchObject({
      status: "True",
      reason: "Updating",
    })
    expect(updating.events).toEqual([])
  })

  it("a failed write is reported with the object's reason and Reconciled=False", () => {
    const i = input(tool({ spec: { horizontalPodAutoscaler: { enabled: true } } }))
    const s = decideStatus(i, decide(i), {
      deployment: deploymentWith(1, { ready: 1 }),
      errors: [
        { role: "deployment", message: "applying Deployment failed: Invalid" },
        { role: "hpa", message: "applying HPA failed" },
      ],
    })
    expect(cond(s.status.conditions, "Ready")).toMatchObject({ status: "False", reason: "DeploymentError" })
    expect(cond(s.status.conditions, "AutoscalingReady")).toMatchObject({
      status: "False",
      reason: "AutoscalerError",
    })
    expect(cond(s.status.conditions, "Reconciled")?.message).toContain("applying HPA failed")
    expect(s.events).toEqual([expect.objectContaining({ type: "Warning", reason: "DeploymentError" })])
  })

  it("NetworkPolicy and egress problems show in their conditions", () => {
    const t = tool({ spec: { egress: [{ to: { cidr: "not-a-cidr" } }] } })
    const i = input(t)
    const s = decideStatus(i, decide(i), {
      deployment: undefined,
      errors: [{ role: "networkPolicy", message: "boom" }],
    })
    expect(cond(s.status.conditions, "NetworkPolicyReady")).toMatchObject({
      status: "False",
      reason: "NetworkPolicyError",
    })
    expect(cond(s.status.conditions, "EgressResolved")).toMatchObject({
      status: "False",
      reason: "InvalidCIDR",
    })
  })

  it("unsupported HPA metrics: AutoscalingReady=False/UnsupportedMetric without blocking Ready", () => {
    const i = input(
      tool({
        spec: {
          horizontalPodAutoscaler: {
            enabled: true,
            customMetrics: [{ name: "x", type: "Object", target: "1" }],
          },
        },
      }),
    )
    const s = decideStatus(i, decide(i), { deployment: deploymentWith(2, { ready: 2 }), errors: [] })
    expect(cond(s.status.conditions, "AutoscalingReady")).toMatchObject({
      status: "False",
      reason: "UnsupportedMetric",
    })
    expect(cond(s.status.conditions, "Ready")?.status).toBe("True")
    expect(
      cond(decideStatus(input(tool()), decide(input(tool())), ok).status.conditions, "AutoscalingReady"),
    ).toMatchObject({
      status: "True",
      reason: "Disabled",
    })
  })

  it("notes a PDB that blocks every drain in the Ready message", () => {
    const i = input(tool({ spec: { podDisruptionBudget: { minAvailable: 1 } } }))
    const s = decideStatus(i, decide(i), { deployment: deploymentWith(1, { ready: 1 }), errors: [] })
    expect(s.status.message).toContain("node drains will block")
  })

  it("scaled to zero and pending states are not Ready and record no Warning", () => {
    const i = input(tool({ spec: { replicas: 0 } }))
    const s = decideStatus(i, decide(i), { deployment: deploymentWith(0, {}), errors: [] })
    expect(s.status.phase).toBe("Pending")
    expect(cond(s.status.conditions, "Ready")).toMatchObject({ status: "False", reason: "ScaledToZero" })
    expect(s.events).toEqual([])
  })

  it("sidecar mode: Running/SidecarMode naming the embedding agents, localhost endpoint, zero counters, no EgressResolved", () => {
    const previous = decideStatus(input(tool()), decide(input(tool())), {
      deployment: deploymentWith(1, { ready: 1 }),
      errors: [],
    })
    const t = tool({
      spec: { deploymentMode: "sidecar", port: 9000 },
      status: previous.status as Record<string, unknown>,
    })
    const i = input(t, { embeddingAgents: ["alpha", "beta"] })
    const s = decideStatus(i, decide(i), ok)
    expect(s.status).toMatchObject({
      phase: "Running",
      endpoint: "http://localhost:9000",
      readyReplicas: 0,
      availableReplicas: 0,
      updatedReplicas: 0,
      unavailableReplicas: 0,
      reason: "SidecarMode",
      message: "Sidecar tool: no workload of its own; embedded by 2 agents (alpha, beta)",
    })
    expect(cond(s.status.conditions, "EgressResolved")).toBeUndefined()
    expect(cond(s.status.conditions, "NetworkPolicyReady")).toMatchObject({
      status: "True",
      reason: "NotApplicable",
    })
    expect(cond(s.status.conditions, "WorkloadAvailable")).toMatchObject({
      status: "True",
      reason: "SidecarMode",
    })
    expect(s.events).toEqual([expect.objectContaining({ type: "Normal", reason: "SidecarMode" })])
    const none = decideStatus(
      input(tool({ spec: { deploymentMode: "sidecar" } })),
      decide(input(tool({ spec: { deploymentMode: "sidecar" } }))),
      ok,
    )
    expect(none.status.message).toBe("Sidecar tool: no workload of its own; embedded by 0 agents")
  })

  it("a blocked tool keeps the replica counters and endpoint it reported before", () => {
    const previous = decideStatus(input(tool()), decide(input(tool())), {
      deployment: deploymentWith(1, { ready: 1 }),
      errors: [],
    })
    const t = tool({ spec: { clusterRef: "gone" }, status: previous.status as Record<string, unknown> })
    const s = decideStatus(input(t), decide(input(t)), ok)
    expect(s.status).toMatchObject({
      phase: "Pending",
      readyReplicas: 1,
      endpoint: previous.status.endpoint,
      reason: "ClusterNotFound",
    })
  })

  it("discovery: reports discovered tools, keeps the previous list when unknown, requeues for rediscovery", () => {
    const ready = { deployment: deploymentWith(1, { ready: 1 }), errors: [] }
    const i = input(tool(), { discovery: { tools: ["fetch", "search"] } })
    const plan = decide(i)
    expect(reconcile(plan).rediscover).toBe(true)
    const first = decideStatus(i, plan, ready)
    expect(first.status.availableTools).toEqual(["fetch", "search"])
    const t = tool({ status: first.status as Record<string, unknown> })
    const unknown = input(t, { discovery: { tools: undefined } })
    expect(decideStatus(unknown, decide(unknown), ready).status.availableTools).toEqual(["fetch", "search"])
    expect(decideStatus(unknown, decide(unknown), ready).statusChanged).toBe(false)
    const off = input(t)
    expect(reconcile(decide(off)).rediscover).toBe(false)
    expect(decideStatus(off, decide(off), ready).status.availableTools).toEqual(["fetch", "search"])
    expect(decideStatus(input(tool()), decide(input(tool())), ready).status.availableTools).toBeUndefined()
  })
})
