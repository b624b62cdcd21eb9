// The egress NetworkPolicies the RECONCILERS write, verified with np-guard's netpol-analyzer: the end-to-end
// example (deploy/examples: the `support` agent, its model, the service-mode `web-fetch` tool and the
// sidecar `workspace-files` tool), plus a `visitor` agent in another namespace that uses the same model and
// tool across namespaces. The agent, tool and persona controllers run in-process; names resolve through a
// real DNS server on 127.0.0.1 via the `Dns` layer; the DNS peer is the default one (a fake `kube-dns` pod
// in kube-system). The LanguageModel controller runs too, so the model proxy's pods (on kwok) and its OWN
// policy (provider host on 443 only) are the reconciler's output as well. Also: a changed egress rule converges with exactly one NetworkPolicy write, and
// a sidecar tool's egress rule lands in its agent's policy.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { CoreV1Api, type KubeConfig, type V1Pod, Watch } from "@kubernetes/client-node"
import { Effect, Exit, Result, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { parse } from "yaml"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import {
  languageModelController,
  modelControllerOptionsFromSettings,
} from "../../../src/controllers/languagemodel/index.ts"
import { languagePersonaController } from "../../../src/controllers/languagepersona/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { commonLabels } from "../../../src/domain/labels.ts"
import { Dns } from "../../../src/network/dns.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { type DnsTestServer, dnsTestServer } from "../../unit/network/support/dns-server.ts"
import { createNamespace, deleteNamespace, kubectl, makeKubeConfig, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import {
  type ConnectionQuery,
  describeQuery,
  evalConnections,
  ipv4Range,
  listConnections,
  type Protocol,
  workloadOf,
} from "../setup/netpol.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"
import { podRef, poll, runningPod } from "./support.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const RESYNC_MS = 3_000
/** What the test DNS server answers for api.openai.com (the gpt-4o-mini model's provider host). */
const OPENAI_IP = "203.0.113.30"
type Json = Record<string, unknown>

const example = (file: string): Json => parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json
const withSpec = (obj: Json, spec: Json): Json => ({ ...obj, spec: { ...(obj.spec as Json), ...spec } })

const must = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
const applyIn = (ns: string, obj: Json) => must(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj))
const setStatus = (kind: string, ns: string | undefined, name: string, status: Json) =>
  must([
    "patch",
    kind,
    name,
    ...(ns === undefined ? [] : ["-n", ns]),
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ])
const getJson = async (kind: string, ns: string, name: string): Promise<Json | undefined> => {
  const r = await kubectl(["get", kind, name, "-n", ns, "-o", "json"])
  if (r.exitCode !== 0) {
    if (r.stderr.includes("NotFound")) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Json
}

interface World {
  readonly kc: KubeConfig
  readonly ns: string
  readonly visitorNs: string
  readonly cluster: string
  readonly dnsPod: string
  readonly pv: string
  /** Current pods (`support` is replaced when a change rolls the agent). */
  readonly pods: Record<"support" | "model" | "webFetch" | "visitor" | "kubeDns", V1Pod>
}

let op: RunningOperator | undefined
let dnsScope: Scope.Closeable | undefined
let dnsServer: DnsTestServer | undefined
let world: World | undefined

const get = (): World => {
  if (world === undefined) throw new Error("not set up")
  return world
}

const setUp = async (dns: DnsTestServer): Promise<World> => {
  const kc = makeKubeConfig()
  await installCrds()
  const settings = await Effect.runPromise(settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s" }))
  const agentOptions = agentControllerOptionsFromSettings(settings)
  const toolOptions = toolControllerOptionsFromSettings(settings)
  if (Result.isFailure(agentOptions)) throw new Error(agentOptions.failure)
  if (Result.isFailure(toolOptions)) throw new Error(toolOptions.failure)
  const modelOptions = modelControllerOptionsFromSettings(settings)
  if (Result.isFailure(modelOptions)) throw new Error(modelOptions.failure)
  op = await startOperator(
    [
      languageAgentController(agentOptions.success),
      languageToolController(toolOptions.success),
      languageModelController(modelOptions.success),
      languagePersonaController({ fieldManager: settings.fieldManager, dependencyWait: "2 seconds" }),
    ],
    { resyncPeriodMs: RESYNC_MS, dns: Dns.layer({ servers: [dns.server], timeoutMs: 500, tries: 2 }) },
  )

  const ns = await createNamespace(kc, "np-e2e")
  const visitorNs = await createNamespace(kc, "np-visitor")
  // The examples' `clusterRef: demo` → a uniquely named LanguageCluster, Ready for `ns` (its controller is
  // not under test here).
  const cluster = uniqueName("np-cl")
  await must(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      metadata: { name: cluster },
      spec: { namespace: ns },
    }),
  )
  await setStatus("languagecluster", undefined, cluster, { phase: "Ready", namespace: ns })
  // The default DNS peer: pods `k8s-app=kube-dns` in kube-system.
  const dnsPod = uniqueName("np-fake-kube-dns")
  await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: "kube-system",
    body: {
      metadata: { name: dnsPod, labels: { "k8s-app": "kube-dns", "langop.io/test": "true" } },
      spec: { containers: [{ name: "dns", image: "registry.invalid/never-pulled:1" }] },
    },
  })
  // A pre-bound PV so the support agent's workspace PVC binds (no provisioner in the test cluster).
  const pv = uniqueName("np-pv")
  await must(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pv, labels: { "langop.io/test": "true" } },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Delete",
        storageClassName: "",
        hostPath: { path: `/tmp/${pv}` },
        claimRef: { namespace: ns, name: "support-workspace" },
      },
    }),
  )

  await applyIn(ns, example("secret-openai-credentials.yaml"))
  await applyIn(ns, example("languagemodel.yaml"))
  for (const file of ["languagetool-web-fetch.yaml", "languagetool-workspace-files.yaml"])
    await applyIn(ns, withSpec(example(file), { clusterRef: cluster }))
  for (const file of ["languagepersona-base.yaml", "languagepersona-support.yaml"])
    await applyIn(ns, example(file))
  await applyIn(ns, withSpec(example("languageagent.yaml"), { clusterRef: cluster }))
  await applyIn(visitorNs, {
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageAgent",
    metadata: { name: "visitor" },
    spec: {
      image: "ghcr.io/langop/agent:1.0",
      executionMode: "interactive",
      modelRefs: [{ name: "gpt-4o-mini", namespace: ns }],
      toolRefs: [{ name: "web-fetch", namespace: ns }],
    },
  })

  const pods = {
    support: await runningPod(kc, ns, commonLabels("LanguageAgent", "support")),
    model: await runningPod(kc, ns, commonLabels("LanguageModel", "gpt-4o-mini")),
    webFetch: await vi.waitFor(async () => {
      const list = await kc
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: ns, labelSelector: "app.kubernetes.io/name=web-fetch" })
      const pod = list.items.find(
        (p) =>
          p.status?.phase === "Running" &&
          p.status.podIP !== undefined &&
          p.metadata?.deletionTimestamp === undefined,
      )
      if (pod === undefined) throw new Error("no running web-fetch pod yet")
      return pod
    }, poll),
    visitor: await runningPod(kc, visitorNs, commonLabels("LanguageAgent", "visitor")),
    kubeDns: await runningPod(kc, "kube-system", { "k8s-app": "kube-dns", "langop.io/test": "true" }),
  }
  // The reconcilers' policies are there (the pods run, but policies are written independently of them).
  await vi.waitFor(async () => {
    for (const [where, name] of [
      [ns, "support"],
      [ns, "web-fetch"],
      [visitorNs, "visitor"],
    ] as const)
      expect(await getJson("networkpolicy", where, name), `${where}/${name}`).toBeDefined()
  }, poll)
  return { kc, ns, visitorNs, cluster, dnsPod, pv, pods }
}

beforeAll(async () => {
  dnsScope = Effect.runSync(Scope.make())
  const dns = await Effect.runPromise(
    Scope.provide(dnsScope)(
      dnsTestServer({
        "api.example.com": { a: ["203.0.113.10"] },
        "mirror.example.org": { a: ["198.51.100.9"] },
        "api.openai.com": { a: [OPENAI_IP] },
      }),
    ),
  )
  dnsServer = dns
  world = await setUp(dns)
})

afterAll(async () => {
  const w = world
  if (w !== undefined) {
    // Delete our resources while the operator still runs, so their finalizers are removed.
    for (const ns of [w.ns, w.visitorNs])
      await kubectl([
        "delete",
        "languageagents,languagetools,languagepersonas,languagemodels",
        "--all",
        "-n",
        ns,
        "--wait=true",
      ])
    await kubectl(["delete", "languagecluster", w.cluster, "--ignore-not-found", "--wait=false"])
    await kubectl(["delete", "pod", w.dnsPod, "-n", "kube-system", "--ignore-not-found", "--wait=false"])
    await kubectl(["delete", "pv", w.pv, "--ignore-not-found", "--wait=false"])
  }
  await op?.stop()
  if (w !== undefined) for (const ns of [w.ns, w.visitorNs]) await deleteNamespace(w.kc, ns)
  if (dnsScope !== undefined) await Effect.runPromise(Scope.close(dnsScope, Exit.void))
})

const ref = (pod: "support" | "model" | "webFetch" | "visitor" | "kubeDns") => podRef(get().pods[pod])
type From = "support" | "webFetch" | "visitor" | "model"
const toPod =
  (pod: "support" | "model" | "webFetch" | "visitor" | "kubeDns", port: number, protocol: Protocol = "TCP") =>
  (from: From): ConnectionQuery => ({ from: ref(from), to: { pod: ref(pod) }, port, protocol })
const toIp =
  (ip: string, port: number, protocol: Protocol = "TCP") =>
  (from: From): ConnectionQuery => ({ from: ref(from), to: { ip }, port, protocol })

const expectVerdicts = async (
  rows: ReadonlyArray<readonly [From, (from: From) => ConnectionQuery, boolean]>,
): Promise<void> => {
  const queries = rows.map(([from, q]) => q(from))
  const verdicts = await evalConnections(queries)
  const text = (q: ConnectionQuery, allowed: boolean) =>
    `${describeQuery(q)}: ${allowed ? "allowed" : "denied"}`
  expect(verdicts.map((v) => text(v.query, v.allowed))).toEqual(
    rows.map(([, , allowed], i) => {
      const q = queries[i]
      return q === undefined ? "" : text(q, allowed)
    }),
  )
}

describe("egress policies written by the reconcilers (end-to-end example), checked by netpol-analyzer", () => {
  test("the support agent reaches its model, its service tool and DNS, and 10.40.0.0/16 on 443 only", async () => {
    await expectVerdicts([
      ["support", toPod("model", 4000), true],
      ["support", toPod("webFetch", 8080), true],
      ["support", toPod("kubeDns", 53, "UDP"), true],
      ["support", toPod("kubeDns", 53, "TCP"), true],
      ["support", toPod("kubeDns", 54, "UDP"), false],
      ["support", toIp("10.40.0.1", 443), true],
      ["support", toIp("10.40.255.254", 443), true],
      ["support", toIp("10.40.0.1", 80), false],
      ["support", toIp("10.41.0.1", 443), false],
      ["support", toIp("8.8.8.8", 443), false],
      // Another namespace's pods (the visitor agent) are not reachable.
      ["support", toPod("visitor", 8080), false],
    ])
  })

  test("an agent in another namespace reaches the model and tool through the automatic rules only", async () => {
    await expectVerdicts([
      ["visitor", toPod("model", 4000), true],
      ["visitor", toPod("model", 4001), false],
      ["visitor", toPod("webFetch", 8080), true],
      ["visitor", toPod("webFetch", 8081), false],
      // The other agent in the model's namespace is no destination of the visitor.
      ["visitor", toPod("support", 8080), false],
      ["visitor", toPod("kubeDns", 53, "UDP"), true],
      ["visitor", toIp("10.40.0.1", 443), false],
      ["visitor", toIp("8.8.8.8", 443), false],
    ])
  })

  test("the service-mode tool reaches anywhere on 80 and 443 (`dns: ['*']`) and nothing else", async () => {
    await expectVerdicts([
      ["webFetch", toIp("8.8.8.8", 443), true],
      ["webFetch", toIp("203.0.113.77", 80), true],
      ["webFetch", toIp("8.8.8.8", 22), false],
      ["webFetch", toPod("kubeDns", 53, "UDP"), true],
      ["webFetch", toPod("visitor", 8080), false],
    ])
  })

  test("the support agent's connectivity map: exactly 10.40.0.0/16 on TCP 443 outside the cluster", async () => {
    const conns = await listConnections({
      focusWorkloads: [workloadOf(get().pods.support)],
      direction: "egress",
    })
    const external = conns.flatMap((c) => (c.dst._tag === "IpRange" ? [{ ...c.dst, conn: c.conn }] : []))
    expect(external).toEqual([
      {
        _tag: "IpRange",
        ...ipv4Range("10.40.0.0/16"),
        conn: { _tag: "Ports", ports: { TCP: [{ from: 443, to: 443 }] } },
      },
    ])
  })

  test("the model proxy reaches its provider host on 443 only outside the cluster, DNS, and its namespace", async () => {
    const { ns } = get()
    await vi.waitFor(async () => {
      const np = await getJson("networkpolicy", ns, "gpt-4o-mini")
      expect(JSON.stringify(np?.spec)).toContain(OPENAI_IP)
    }, poll)
    await expectVerdicts([
      ["model", toIp(OPENAI_IP, 443), true],
      ["model", toIp(OPENAI_IP, 80), false],
      ["model", toIp("8.8.8.8", 443), false],
      ["model", toIp("10.40.0.1", 443), false],
      ["model", toPod("kubeDns", 53, "UDP"), true],
      // Same-namespace pods are the base rule (docs/concepts.md §9; fallback proxies are reached that way); other
      // namespaces are not.
      ["model", toPod("support", 8080), true],
      ["model", toPod("visitor", 8080), false],
    ])
    const conns = await listConnections({
      focusWorkloads: [workloadOf(get().pods.model)],
      direction: "egress",
    })
    const external = conns.flatMap((c) => (c.dst._tag === "IpRange" ? [{ ...c.dst, conn: c.conn }] : []))
    expect(external).toEqual([
      {
        _tag: "IpRange",
        ...ipv4Range(`${OPENAI_IP}/32`),
        conn: { _tag: "Ports", ports: { TCP: [{ from: 443, to: 443 }] } },
      },
    ])
  })

  test("a changed egress rule converges with exactly one NetworkPolicy write, and takes effect", async () => {
    const { kc, ns } = get()
    const before = await getJson("networkpolicy", ns, "support")
    const rv = String((before?.metadata as Json | undefined)?.resourceVersion)
    const versions: Array<string> = []
    const watch = await new Watch(kc).watch(
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      { fieldSelector: "metadata.name=support", resourceVersion: rv, allowWatchBookmarks: false },
      (phase, obj: { metadata?: { resourceVersion?: string } }) => {
        versions.push(`${phase} ${obj.metadata?.resourceVersion ?? ""}`)
      },
      () => {},
    )
    try {
      await must([
        "patch",
        "languageagent",
        "support",
        "-n",
        ns,
        "--type=merge",
        "-p",
        JSON.stringify({
          spec: {
            egress: [
              { description: "Ticketing moved", to: { cidr: "10.50.0.0/16" }, ports: [{ port: 443 }] },
              { description: "Vendor API", to: { dns: ["api.example.com"] }, ports: [{ port: 443 }] },
            ],
          },
        }),
      ])
      await vi.waitFor(async () => {
        const agent = await getJson("languageagent", ns, "support")
        const meta = agent?.metadata as Json | undefined
        expect((agent?.status as Json | undefined)?.observedGeneration).toBe(meta?.generation)
        expect(versions.length).toBeGreaterThan(0)
      }, poll)
      // Several resyncs (and the DNS-refresh requeue) later, still exactly one change.
      await new Promise((r) => setTimeout(r, 4 * RESYNC_MS))
      expect(versions.map((v) => v.split(" ")[0])).toEqual(["MODIFIED"])
    } finally {
      watch.abort()
    }
    // The agent's pods may have been rolled by the change (its config hash covers the spec); use the new one.
    get().pods.support = await runningPod(kc, ns, commonLabels("LanguageAgent", "support"))
    await expectVerdicts([
      ["support", toIp("10.50.0.1", 443), true],
      ["support", toIp("10.40.0.1", 443), false],
      ["support", toIp("203.0.113.10", 443), true],
      ["support", toIp("203.0.113.10", 80), false],
      ["support", toIp("198.51.100.9", 443), false],
    ])
  })

  test("re-resolving the same addresses in another order writes nothing (one write when they change)", async () => {
    const { kc, ns } = get()
    const dns = dnsServer
    if (dns === undefined) throw new Error("no DNS server")
    const records = (a: ReadonlyArray<string>) => ({
      "api.example.com": { a },
      "mirror.example.org": { a: ["198.51.100.9"] },
      "api.openai.com": { a: [OPENAI_IP] },
    })
    const cidrs = async () =>
      JSON.stringify((await getJson("networkpolicy", ns, "support"))?.spec ?? {}).match(
        /203\.0\.113\.1[01]\/32/gu,
      ) ?? []
    // A second address appears: the policy gains it (the previous test left `api.example.com` in the spec).
    dns.setRecords(records(["203.0.113.10", "203.0.113.11"]))
    await vi.waitFor(
      async () => expect(new Set(await cidrs())).toEqual(new Set(["203.0.113.10/32", "203.0.113.11/32"])),
      poll,
    )
    const rv = String(
      ((await getJson("networkpolicy", ns, "support"))?.metadata as Json | undefined)?.resourceVersion,
    )
    const events: Array<string> = []
    const watch = await new Watch(kc).watch(
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      { fieldSelector: "metadata.name=support", resourceVersion: rv, allowWatchBookmarks: false },
      (phase) => events.push(phase),
      () => {},
    )
    try {
      // The same two addresses, answered in the other order, across several resyncs that resolve again.
      dns.setRecords(records(["203.0.113.11", "203.0.113.10"]))
      const asked = dns.queries.length
      await new Promise((r) => setTimeout(r, 4 * RESYNC_MS))
      expect(dns.queries.slice(asked).some((q) => q.startsWith("api.example.com"))).toBe(true)
      expect(events).toEqual([])
    } finally {
      watch.abort()
    }
  })

  test("an egress rule of the embedded sidecar tool reaches the agent's pods (docs/concepts.md §9 defect 5)", async () => {
    const { kc, ns } = get()
    await must([
      "patch",
      "languagetool",
      "workspace-files",
      "-n",
      ns,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { egress: [{ to: { dns: ["mirror.example.org"] }, ports: [{ port: 873 }] }] } }),
    ])
    await vi.waitFor(async () => {
      get().pods.support = await runningPod(kc, ns, commonLabels("LanguageAgent", "support"))
      await expectVerdicts([["support", toIp("198.51.100.9", 873), true]])
    }, poll)
    await expectVerdicts([
      ["support", toIp("198.51.100.9", 443), false],
      ["support", toIp("198.51.100.10", 873), false],
      // The sidecar-mode tool has no policy of its own, and its rule is not the visitor's.
      ["visitor", toIp("198.51.100.9", 873), false],
    ])
    expect(await getJson("networkpolicy", ns, "workspace-files")).toBeUndefined()
  })
})
