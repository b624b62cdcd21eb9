// The LanguageTool controller against the real local control plane (kwok runs the pods): the web-fetch
// example becomes ConfigMap/Deployment/Service/PDB/HPA/NetworkPolicy with Running pods and a Running
// status; updates converge; deleted children come back; switching to sidecar mode removes the workload;
// membership follows the LanguageCluster; a reconcile (or a resync) with nothing changed writes nothing.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse, stringify } from "yaml"
import { languageClusterController } from "../../../src/controllers/languagecluster/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { type McpTestServer, startMcpTestServer } from "../../unit/controllers/languagetool/mcp-server.ts"
import { eventually } from "../runtime/support.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLE = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "deploy",
  "examples",
  "languagetool-web-fetch.yaml",
)
const TIMEOUT = 90_000

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason: string
  readonly message: string
}
// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any
interface Obj {
  readonly metadata: { name: string; uid: string; generation?: number; [k: string]: Loose }
  readonly spec?: Loose
  readonly status?: Loose
  readonly data?: Loose
}

/** Namespaces the tests applied tools in (cleaned up in afterAll while the operator still runs). */
const namespaces = new Set<string>()

const get = async (what: string, namespace?: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", what, ...(namespace !== undefined ? ["-n", namespace] : []), "-o", "json"])
  if (r.exitCode !== 0) {
    if (/NotFound|not found/u.test(r.stderr)) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Obj
}

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const n = args.indexOf("-n")
  if (args[0] === "apply" && n >= 0 && args[n + 1] !== undefined) namespaces.add(args[n + 1] ?? "")
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

const cond = (o: Obj | undefined, type: string): Condition | undefined =>
  (o?.status?.conditions as ReadonlyArray<Condition> | undefined)?.find((c) => c.type === type)

const settings = Effect.runSync(settingsFrom({}))
const toolOptions = (() => {
  const r = toolControllerOptionsFromSettings(settings)
  if (Result.isFailure(r)) throw new Error(r.failure)
  // A long dependency wait: a tool waiting for its cluster must be woken by the cluster watch, not a timer.
  return { ...r.success, dependencyWait: "10 minutes" as const }
})()

let operator: RunningOperator
/** Kwok pods serve nothing, so MCP discovery (enabled here) is pointed at this local MCP server instead. */
let mcp: McpTestServer
const clusters: Array<string> = []

beforeAll(async () => {
  await installCrds()
  mcp = await startMcpTestServer({ tools: ["fetch_url", "extract_links", "fetch_url", "head"] })
  operator = await startOperator(
    [
      languageClusterController({ fieldManager: settings.fieldManager, dependencyWait: "1 second" }),
      languageToolController({ ...toolOptions, discovery: { enabled: true, endpointFor: () => mcp.url } }),
    ],
    { resyncPeriodMs: 4_000 },
  )
})

afterAll(async () => {
  // Delete tools while the operator still runs, so their finalizers are removed.
  for (const ns of namespaces) await kubectl(["delete", "languagetools", "--all", "-n", ns, "--wait=false"])
  await eventually("tools deleted", async () => {
    for (const ns of namespaces) if ((await get("languagetool/web-fetch", ns)) !== undefined) return false
    return true
  })
  for (const name of clusters)
    await kubectl(["delete", "languagecluster", name, "--ignore-not-found", "--wait=false"])
  await eventually("clusters deleted", async () => {
    for (const name of clusters) if ((await get(`languagecluster/${name}`)) !== undefined) return false
    return true
  })
  await operator.stop()
  await mcp.close()
})

/** A LanguageCluster that adopts the test's namespace. */
const clusterFor = async (namespace: string) => {
  const name = uniqueName("lc-tool")
  clusters.push(name)
  await must(
    ["apply", "-f", "-"],
    stringify({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      metadata: { name },
      spec: { namespace },
    }),
  )
  return name
}

/** The web-fetch example in `namespace`, member of `cluster`, with optional spec changes. */
const webFetch = (cluster: string, spec: Record<string, unknown> = {}) => {
  const doc = parse(readFileSync(EXAMPLE, "utf8")) as { spec: Record<string, unknown> }
  doc.spec = { ...doc.spec, clusterRef: cluster, ...spec }
  return stringify(doc)
}

const toolWhere = (namespace: string, what: string, check: (t: Obj) => boolean, timeoutMs = TIMEOUT) =>
  eventually(
    what,
    async () => {
      const t = await get("languagetool/web-fetch", namespace)
      return t !== undefined && check(t) ? t : undefined
    },
    timeoutMs,
  )

const runningWithPods = (namespace: string) =>
  toolWhere(
    namespace,
    "web-fetch Running with every replica ready and updated",
    (t) =>
      t.status?.phase === "Running" &&
      t.status.observedGeneration === t.metadata.generation &&
      t.status.readyReplicas > 0 &&
      t.status.updatedReplicas === t.status.readyReplicas &&
      t.status.unavailableReplicas === 0,
  )

const podsOf = async (namespace: string) => {
  const out = await must([
    "get",
    "pods",
    "-n",
    namespace,
    "-l",
    "app.kubernetes.io/name=web-fetch,langop.io/kind=LanguageTool",
    "-o",
    "json",
  ])
  return (JSON.parse(out) as { items: ReadonlyArray<Obj> }).items.filter(
    (p) => p.metadata.deletionTimestamp === undefined,
  )
}

/**
 * Write requests the operator made for objects in `namespace` (children and the tool itself), excluding
 * Events. Dry-run applies count too: in a steady state not even a comparison request should be needed.
 */
const writesIn = (namespace: string) => () =>
  operator.writes().filter((w) => w.kind !== "Event" && w.namespace === namespace)

const settled = async (writes: () => ReadonlyArray<unknown>) =>
  eventually(
    "writes settle",
    async () => {
      const n = writes().length
      await new Promise((r) => setTimeout(r, 2500))
      return writes().length === n
    },
    TIMEOUT,
  )

describe("LanguageTool", () => {
  test("the web-fetch example: children, pods Running on kwok, status Running with replica counts", async ({
    namespace,
  }) => {
    const cluster = await clusterFor(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    const t = await runningWithPods(namespace)

    expect(t.metadata.finalizers).toContain("langop.io/finalizer")
    expect(t.status.endpoint).toBe(`http://web-fetch.${namespace}.svc.cluster.local:8080`)
    expect(cond(t, "Ready")).toMatchObject({ status: "True", reason: "ReconcileSuccess" })
    for (const type of [
      "Reconciled",
      "WorkloadAvailable",
      "NetworkPolicyReady",
      "EgressResolved",
      "AutoscalingReady",
    ])
      expect(cond(t, type)?.status, type).toBe("True")

    // The HPA scales 1 → 2 while we look: read tool, Deployment and pods until one snapshot agrees
    // (the status follows the Deployment's through a watch, so a single read can catch it a step behind).
    const { tool, deployment } = await eventually(
      "tool status, Deployment status and Running pods agree",
      async () => {
        const tool = await runningWithPods(namespace)
        const deployment = await get("deployment/web-fetch", namespace)
        const running = (await podsOf(namespace)).filter((p) => p.status.phase === "Running").length
        return tool.status.readyReplicas === deployment?.status.readyReplicas &&
          running === tool.status.readyReplicas
          ? { tool, deployment }
          : undefined
      },
      TIMEOUT,
    )
    expect(tool.status.readyReplicas).toBe(deployment?.status.readyReplicas)
    expect(deployment?.metadata.labels["langop.io/cluster"]).toBe(cluster)
    expect(deployment?.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "web-fetch",
      "app.kubernetes.io/managed-by": "language-operator",
      "app.kubernetes.io/part-of": "langop",
      "langop.io/kind": "LanguageTool",
    })
    expect(deployment?.spec.replicas).toBeGreaterThanOrEqual(1) // left to the HPA (example enables it)
    const container = deployment?.spec.template.spec.containers[0]
    expect(container).toMatchObject({
      name: "tool",
      image: "ghcr.io/langop/mcp-web-fetch:1.0",
      ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    })
    expect(container.env).toContainEqual({ name: "PORT", value: "8080" })
    expect(deployment?.spec.template.spec.securityContext).toMatchObject({
      runAsUser: 1000,
      runAsNonRoot: true,
    })
    expect(deployment?.spec.template.metadata.annotations["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)

    const service = await get("service/web-fetch", namespace)
    expect(service?.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8080, targetPort: 8080 }],
    })
    const cm = await get("configmap/web-fetch-tool", namespace)
    expect(Object.keys(cm?.data ?? {}).sort()).toEqual(["name", "namespace", "tool.json", "type"])
    expect((await get("pdb/web-fetch", namespace))?.spec.maxUnavailable).toBe(1)
    const hpa = await get("hpa.v2.autoscaling/web-fetch", namespace)
    expect(hpa?.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: { kind: "Deployment", name: "web-fetch" },
    })
    const np = await get("networkpolicy/web-fetch", namespace)
    expect(np?.spec.policyTypes).toEqual(["Egress"])
    expect(JSON.stringify(np?.spec.egress)).toContain("0.0.0.0/0")
    for (const child of [deployment, service, cm, np])
      expect(child?.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: "LanguageTool",
          name: "web-fetch",
          uid: t.metadata.uid,
          controller: true,
        }),
      ])
    // MCP discovery (enabled in this file) lists the server's tools, sorted.
    const discovered = await toolWhere(
      namespace,
      "availableTools",
      (o) => o.status?.availableTools !== undefined,
    )
    expect(discovered.status.availableTools).toEqual(["extract_links", "fetch_url", "head"])
    // kubectl's printer columns.
    expect(await must(["get", "ltool", "-n", namespace, "--no-headers"])).toMatch(
      /web-fetch\s+True\s+mcp\s+\S+\s+Running\s+http:\/\//u,
    )
  })

  test("updates converge: an env change rolls the pods and the status follows", async ({ namespace }) => {
    const cluster = await clusterFor(namespace)
    await must(
      ["apply", "-n", namespace, "-f", "-"],
      webFetch(cluster, { horizontalPodAutoscaler: { enabled: false }, replicas: 2 }),
    )
    await runningWithPods(namespace)
    const before = await get("deployment/web-fetch", namespace)
    expect(before?.spec.replicas).toBe(2)
    expect(await get("hpa.v2.autoscaling/web-fetch", namespace)).toBeUndefined()

    await must(
      ["apply", "-n", namespace, "-f", "-"],
      webFetch(cluster, {
        horizontalPodAutoscaler: { enabled: false },
        replicas: 3,
        env: [{ name: "USER_AGENT", value: "changed/2.0" }],
      }),
    )
    const after = await toolWhere(
      namespace,
      "web-fetch Running with 3 ready replicas",
      (t) =>
        t.status?.phase === "Running" &&
        t.status.observedGeneration === t.metadata.generation &&
        t.status.readyReplicas === 3 &&
        t.status.updatedReplicas === 3,
    )
    expect(after.status.readyReplicas).toBe(3)
    const deployment = await get("deployment/web-fetch", namespace)
    expect(deployment?.spec.replicas).toBe(3)
    expect(deployment?.spec.template.spec.containers[0].env).toEqual([
      { name: "USER_AGENT", value: "changed/2.0" },
      { name: "PORT", value: "8080" },
    ])
    expect(deployment?.spec.template.metadata.annotations["langop.io/config-hash"]).not.toBe(
      before?.spec.template.metadata.annotations["langop.io/config-hash"],
    )
    // Old pods of the previous ReplicaSet may still be on their way out; wait for the rollout to finish.
    const pods = await eventually(
      "only pods of the new template remain",
      async () => {
        const pods = await podsOf(namespace)
        return pods.length === 3 &&
          pods.every((p) =>
            p.spec.containers[0].env.some((e: { value?: string }) => e.value === "changed/2.0"),
          )
          ? pods
          : undefined
      },
      TIMEOUT,
    )
    expect(pods).toHaveLength(3)
  })

  test("deleted children are recreated", async ({ namespace }) => {
    const cluster = await clusterFor(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    await runningWithPods(namespace)
    for (const what of [
      "service/web-fetch",
      "configmap/web-fetch-tool",
      "networkpolicy/web-fetch",
      "deployment/web-fetch",
    ]) {
      const uid = (await get(what, namespace))?.metadata.uid
      await must(["delete", what, "-n", namespace, "--wait=false"])
      await eventually(
        `${what} recreated`,
        async () => {
          const o = await get(what, namespace)
          return o !== undefined && o.metadata.uid !== uid && o.metadata.deletionTimestamp === undefined
        },
        TIMEOUT,
      )
    }
    await runningWithPods(namespace)
  })

  test("edits to fields it owns are reverted (drift repair)", async ({ namespace }) => {
    const cluster = await clusterFor(namespace)
    await must(
      ["apply", "-n", namespace, "-f", "-"],
      webFetch(cluster, { horizontalPodAutoscaler: { enabled: false } }),
    )
    await runningWithPods(namespace)
    await must(["set", "image", "deployment/web-fetch", "-n", namespace, "tool=registry.invalid/evil:1"])
    await must(["scale", "deployment/web-fetch", "-n", namespace, "--replicas=4"])
    await must([
      "patch",
      "service/web-fetch",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"type":"NodePort"}}',
    ])
    await eventually(
      "Deployment and Service restored",
      async () => {
        const d = await get("deployment/web-fetch", namespace)
        const svc = await get("service/web-fetch", namespace)
        return (
          d?.spec.template.spec.containers[0].image === "ghcr.io/langop/mcp-web-fetch:1.0" &&
          d.spec.replicas === 1 &&
          svc?.spec.type === "ClusterIP"
        )
      },
      TIMEOUT,
    )
    await runningWithPods(namespace)
  })

  test("deleting the tool removes its finalizer; garbage collection removes its children", async ({
    namespace,
  }) => {
    const cluster = await clusterFor(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    await runningWithPods(namespace)
    await must(["delete", "languagetool/web-fetch", "-n", namespace, "--wait=false"])
    await eventually(
      "tool gone",
      async () => (await get("languagetool/web-fetch", namespace)) === undefined,
      TIMEOUT,
    )
    for (const what of [
      "deployment/web-fetch",
      "service/web-fetch",
      "configmap/web-fetch-tool",
      "networkpolicy/web-fetch",
    ])
      await eventually(`${what} collected`, async () => (await get(what, namespace)) === undefined, TIMEOUT)
  })

  test("switching to sidecar mode removes the workload; status names the agents that embed it", async ({
    namespace,
  }) => {
    const cluster = await clusterFor(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    await runningWithPods(namespace)
    const agent = {
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      metadata: { name: "support", namespace },
      spec: {
        image: "ghcr.io/langop/agent:1.0",
        modelRefs: [{ name: "gpt-4o-mini" }],
        toolRefs: [{ name: "web-fetch" }],
      },
    }
    await must(["apply", "-f", "-"], stringify(agent))

    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster, { deploymentMode: "sidecar" }))
    const t = await toolWhere(
      namespace,
      "sidecar status",
      (o) => o.status?.reason === "SidecarMode" && o.status.message.includes("support"),
    )
    expect(t.status).toMatchObject({ phase: "Running", endpoint: "http://localhost:8080", readyReplicas: 0 })
    expect(t.status.message).toBe("Sidecar tool: no workload of its own; embedded by 1 agent (support)")
    expect(cond(t, "EgressResolved")).toBeUndefined()
    for (const what of [
      "deployment/web-fetch",
      "service/web-fetch",
      "pdb/web-fetch",
      "hpa.v2.autoscaling/web-fetch",
      "networkpolicy/web-fetch",
    ])
      await eventually(
        `${what} deleted`,
        async () =>
          (await get(what, namespace)) === undefined ||
          (await get(what, namespace))?.metadata.deletionTimestamp !== undefined,
        TIMEOUT,
      )
    expect(await get("configmap/web-fetch-tool", namespace)).toBeDefined()

    // The agent watch: disabling the reference updates the count.
    await must(
      ["apply", "-f", "-"],
      stringify({ ...agent, spec: { ...agent.spec, toolRefs: [{ name: "web-fetch", enabled: false }] } }),
    )
    await toolWhere(
      namespace,
      "embed count 0",
      (o) => o.status?.message === "Sidecar tool: no workload of its own; embedded by 0 agents",
    )

    // And back to service mode.
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    const back = await runningWithPods(namespace)
    expect(back.status.endpoint).toBe(`http://web-fetch.${namespace}.svc.cluster.local:8080`)
  })

  test("waits for its LanguageCluster and starts as soon as the cluster is Ready (cluster watch)", async ({
    namespace,
  }) => {
    const name = uniqueName("lc-late")
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(name))
    const waiting = await toolWhere(
      namespace,
      "ClusterNotFound",
      (o) => o.status?.reason === "ClusterNotFound",
    )
    expect(waiting.status.phase).toBe("Pending")
    expect(await get("deployment/web-fetch", namespace)).toBeUndefined()

    clusters.push(name)
    await must(
      ["apply", "-f", "-"],
      stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageCluster",
        metadata: { name },
        spec: { namespace },
      }),
    )
    await runningWithPods(namespace)
  })

  test("a cluster in another namespace is refused with ClusterNamespaceMismatch", async ({ namespace }) => {
    const other = uniqueName("lc-other")
    clusters.push(other)
    await must(
      ["apply", "-f", "-"],
      stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageCluster",
        metadata: { name: other },
        spec: {},
      }),
    )
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(other))
    const t = await toolWhere(namespace, "mismatch", (o) => o.status?.reason === "ClusterNamespaceMismatch")
    expect(t.status.phase).toBe("Failed")
    expect(cond(t, "Ready")?.message).toContain(`${other}-ns`)
  })

  test("a reconcile or a periodic resync with nothing changed makes no write", async ({ namespace }) => {
    const cluster = await clusterFor(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], webFetch(cluster))
    await runningWithPods(namespace)
    const writes = writesIn(namespace)
    await settled(writes)
    const before = writes().length
    const reconciles = await operator.reconciles("languagetool")
    // A metadata-only change triggers a reconcile of the tool without changing anything it decides on;
    // resyncs (every 4 s in this file) trigger more.
    await must(["annotate", "languagetool", "web-fetch", "-n", namespace, `touched=${Date.now()}`])
    await eventually(
      "reconciles after the touch and a resync",
      async () => (await operator.reconciles("languagetool")) >= reconciles + 3,
      TIMEOUT,
    )
    await new Promise((r) => setTimeout(r, 5000))
    expect(writes().slice(before)).toEqual([])
  })
})
