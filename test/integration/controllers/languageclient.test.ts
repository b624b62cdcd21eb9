// The LanguageClient controller against the real local control plane (kwok runs the pods): the
// support-chat example (with its model, tool, agent, personas and cluster present; the cluster and
// persona controllers run alongside, the others' objects only need to exist) becomes ConfigMap/Deployment/
// Service with Running pods and a Running, Ready status; updates converge; a deleted child comes back; a
// second reconcile (and a resync) writes nothing; enabling the ingress adds an Ingress; deletion cleans up.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse, stringify } from "yaml"
import {
  clientControllerOptionsFromSettings,
  languageClientController,
} from "../../../src/controllers/languageclient/index.ts"
import { languageClusterController } from "../../../src/controllers/languagecluster/index.ts"
import { languagePersonaControllerFromSettings } from "../../../src/controllers/languagepersona/index.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { eventually } from "../runtime/support.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const TIMEOUT = 90_000

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any
interface Obj {
  readonly metadata: { name: string; uid: string; generation?: number; [k: string]: Loose }
  readonly spec?: Loose
  readonly status?: Loose
  readonly data?: Loose
}

const namespaces = new Set<string>()
const clusters: Array<string> = []

const get = async (what: string, namespace?: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", what, ...(namespace !== undefined ? ["-n", namespace] : []), "-o", "json"])
  if (r.exitCode !== 0) {
    if (/NotFound|not found/u.test(r.stderr)) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Obj
}

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

const cond = (o: Obj | undefined, type: string) =>
  (
    o?.status?.conditions as
      | ReadonlyArray<{ type: string; status: string; reason: string; message: string }>
      | undefined
  )?.find((c) => c.type === type)

const settings = Effect.runSync(settingsFrom({}))
let operator: RunningOperator

beforeAll(async () => {
  await installCrds()
  operator = await startOperator(
    [
      languageClusterController({ fieldManager: settings.fieldManager, dependencyWait: "1 second" }),
      languagePersonaControllerFromSettings(settings),
      // A long dependency wait: progress must come from the watches, not a timer.
      languageClientController({
        ...clientControllerOptionsFromSettings(settings),
        dependencyWait: "10 minutes",
      }),
    ],
    { resyncPeriodMs: 4_000 },
  )
})

afterAll(async () => {
  for (const ns of namespaces)
    await kubectl(["delete", "languageclients,languagepersonas", "--all", "-n", ns, "--wait=false"])
  await eventually(
    "clients deleted",
    async () => {
      for (const ns of namespaces)
        if ((await get("languageclient/support-chat", ns)) !== undefined) return false
      return true
    },
    TIMEOUT,
  )
  for (const name of clusters)
    await kubectl(["delete", "languagecluster", name, "--ignore-not-found", "--wait=false"])
  await operator.stop()
})

const example = (file: string, edit: (doc: Loose) => void = () => {}) => {
  const doc = parse(readFileSync(join(EXAMPLES, file), "utf8")) as Loose
  edit(doc)
  return stringify(doc)
}

/** The client's world in `namespace`: a cluster adopting it, the model, tool, agent and both personas. */
const world = async (namespace: string) => {
  namespaces.add(namespace)
  const cluster = uniqueName("lc-client")
  clusters.push(cluster)
  await must(
    ["apply", "-f", "-"],
    stringify({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      metadata: { name: cluster },
      spec: { namespace },
    }),
  )
  const member = (doc: Loose) => {
    if (doc.spec.clusterRef !== undefined) doc.spec.clusterRef = cluster
  }
  for (const file of [
    "languagemodel.yaml",
    "languagetool-web-fetch.yaml",
    "languageagent.yaml",
    "languagepersona-base.yaml",
    "languagepersona-support.yaml",
  ])
    await must(["apply", "-n", namespace, "-f", "-"], example(file, member))
  return cluster
}

const chat = (cluster: string, spec: Record<string, unknown> = {}) =>
  example("languageclient.yaml", (doc) => {
    doc.spec = { ...doc.spec, clusterRef: cluster, ...spec }
  })

const clientWhere = (namespace: string, what: string, check: (c: Obj) => boolean) =>
  eventually(
    what,
    async () => {
      const c = await get("languageclient/support-chat", namespace)
      return c !== undefined && check(c) ? c : undefined
    },
    TIMEOUT,
  )

const running = (namespace: string) =>
  clientWhere(
    namespace,
    "support-chat Running and Ready with its pods",
    (c) =>
      c.status?.phase === "Running" &&
      c.status.observedGeneration === c.metadata.generation &&
      cond(c, "Ready")?.status === "True" &&
      c.status.readyReplicas > 0 &&
      c.status.updatedReplicas === c.status.readyReplicas,
  )

const writesIn = (namespace: string) => () =>
  operator.writes().filter((w) => w.kind !== "Event" && w.namespace === namespace)

const settled = (writes: () => ReadonlyArray<unknown>) =>
  eventually(
    "writes settle",
    async () => {
      const n = writes().length
      await new Promise((r) => setTimeout(r, 2500))
      return writes().length === n
    },
    TIMEOUT,
  )

describe("LanguageClient", () => {
  test("the support-chat example: Ready with ConfigMap/Deployment/Service, pods Running; converges; drift; no idle writes; deletion", async ({
    namespace,
  }) => {
    const cluster = await world(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], chat(cluster))
    const c = await running(namespace)

    expect(c.metadata.finalizers).toContain("langop.io/finalizer")
    expect(c.status.url).toBe(`http://support-chat.${namespace}.svc.cluster.local:8080`)
    for (const type of [
      "Ready",
      "Reconciled",
      "DependenciesResolved",
      "WorkloadAvailable",
      "IngressReady",
      "AutoscalingReady",
    ])
      expect(cond(c, type)?.status, type).toBe("True")
    expect(cond(c, "Ready")?.reason).toBe("ReconcileSuccess")
    expect(cond(c, "DependenciesResolved")?.message).toContain('persona "')

    const deployment = await get("deployment/support-chat", namespace)
    expect(deployment?.spec.replicas).toBe(1)
    expect(deployment?.metadata.labels["langop.io/cluster"]).toBe(cluster)
    const container = deployment?.spec.template.spec.containers[0]
    const env = Object.fromEntries(container.env.map((e: Loose) => [e.name, e.value]))
    expect(env).toMatchObject({
      CLIENT_NAME: "support-chat",
      CLIENT_NAMESPACE: namespace,
      CLIENT_TYPE: "web",
      CLIENT_CONFIG_DIR: "/etc/langop/client",
      PORT: "8080",
      MODEL_ENDPOINTS: `http://gpt-4o-mini.${namespace}.svc.cluster.local:8000`,
      MCP_SERVERS: `http://web-fetch.${namespace}.svc.cluster.local:8080`,
      AGENT_ENDPOINTS: `http://support.${namespace}.svc.cluster.local:80`,
      PERSONA_NAME: "support-agent",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    })
    // Restricted defaults: the container's own fields here, the run-as fields at pod level (inherited).
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    })
    expect(deployment?.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    })
    const pods = JSON.parse(
      await must([
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        "app.kubernetes.io/name=support-chat,langop.io/kind=LanguageClient",
        "-o",
        "json",
      ]),
    ).items
    expect(pods.filter((p: Loose) => p.status.phase === "Running").length).toBeGreaterThanOrEqual(1)
    const service = await get("service/support-chat", namespace)
    expect(service?.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8080, targetPort: 8080 }],
    })
    expect(service?.spec.sessionAffinity).toBe("None") // one replica: no sticky sessions needed
    const cm = await get("configmap/support-chat-client", namespace)
    expect(JSON.parse(cm?.data["agents.json"])).toEqual([
      {
        name: "support",
        namespace,
        url: `http://support.${namespace}.svc.cluster.local:80`,
        displayName: "Support agent",
        description: "Answers product questions and files tickets.",
      },
    ])
    expect(JSON.parse(cm?.data["persona.json"]).displayName).toBe("Product support")
    for (const child of [deployment, service, cm])
      expect(child?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: "LanguageClient", name: "support-chat", controller: true }),
      ])

    // settled: a resync (every 4 s) and re-reconciles write nothing at all
    const writes = writesIn(namespace)
    await settled(writes)
    const before = writes().length
    const reconcilesBefore = await operator.reconciles("languageclient")
    await eventually(
      "two more reconciles",
      async () => (await operator.reconciles("languageclient")) >= reconcilesBefore + 2,
      TIMEOUT,
    )
    expect(writes().slice(before)).toEqual([])

    // drift: a deleted child comes back
    await must(["delete", "service", "support-chat", "-n", namespace, "--wait=true"])
    await eventually(
      "Service recreated",
      async () => (await get("service/support-chat", namespace)) !== undefined,
      TIMEOUT,
    )

    // update converges: 2 replicas → sticky sessions (memory backend) and a rollout to 2 ready pods
    await must(
      ["apply", "-n", namespace, "-f", "-"],
      chat(cluster, { replicas: 2, env: [{ name: "EXTRA", value: "1" }] }),
    )
    const updated = await clientWhere(
      namespace,
      "2 ready replicas",
      (x) =>
        x.status?.observedGeneration === x.metadata.generation &&
        x.status.readyReplicas === 2 &&
        x.status.phase === "Running",
    )
    expect(cond(updated, "Ready")?.message).toContain("ClientIP affinity")
    expect((await get("service/support-chat", namespace))?.spec.sessionAffinity).toBe("ClientIP")
    expect(
      (await get("deployment/support-chat", namespace))?.spec.template.spec.containers[0].env,
    ).toContainEqual({ name: "EXTRA", value: "1" })

    // ingress on → Ingress with a host rule; off again → removed
    await must(
      ["apply", "-n", namespace, "-f", "-"],
      chat(cluster, { ingress: { enabled: true, hosts: ["chat.example"] } }),
    )
    const ingress = await eventually(
      "Ingress created",
      async () => get("ingress/support-chat", namespace),
      TIMEOUT,
    )
    expect(ingress.spec.rules[0]).toMatchObject({
      host: "chat.example",
      http: { paths: [{ path: "/", pathType: "Prefix" }] },
    })
    const withIngress = await clientWhere(
      namespace,
      "url from the ingress",
      (x) => x.status?.url === "http://chat.example/",
    )
    expect(cond(withIngress, "IngressReady")).toMatchObject({ status: "False", reason: "Pending" })
    await must(["apply", "-n", namespace, "-f", "-"], chat(cluster))
    await eventually(
      "Ingress removed",
      async () => (await get("ingress/support-chat", namespace)) === undefined,
      TIMEOUT,
    )

    // deletion: the finalizer is removed and garbage collection takes the children
    await must(["delete", "languageclient", "support-chat", "-n", namespace, "--wait=true", "--timeout=60s"])
    await eventually(
      "Deployment collected",
      async () => (await get("deployment/support-chat", namespace)) === undefined,
      TIMEOUT,
    )
  })

  test("a missing model waits with ModelNotFound and writes no children; creating it unblocks", async ({
    namespace,
  }) => {
    const cluster = await world(namespace)
    await must(["apply", "-n", namespace, "-f", "-"], chat(cluster, { modelRefs: [{ name: "later" }] }))
    const waiting = await clientWhere(
      namespace,
      "ModelNotFound",
      (x) => cond(x, "Ready")?.reason === "ModelNotFound",
    )
    expect(cond(waiting, "DependenciesResolved")).toMatchObject({ status: "False", reason: "ModelNotFound" })
    expect(waiting.status.phase).toBe("Pending")
    expect(await get("deployment/support-chat", namespace)).toBeUndefined()
    await must(
      ["apply", "-n", namespace, "-f", "-"],
      example("languagemodel.yaml", (doc) => {
        doc.metadata.name = "later"
      }),
    )
    await running(namespace)
  })
})
