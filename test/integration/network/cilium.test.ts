// Cilium FQDN policies (docs/concepts.md §9 item 6) against the real control plane with Cilium's own CRD installed
// (cilium.io/v2 CiliumNetworkPolicy from the github.com/cilium/cilium module, so the API server validates
// and prunes what we write exactly as a Cilium cluster would). The tool and model controllers run
// in-process with LANGOP_CILIUM_FQDN_POLICIES on. No Cilium agent runs here: what is checked is the
// object a Cilium agent would enforce, its lifecycle, and that a settled reconcile writes nothing.
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { parse } from "yaml"
import { removeFqdnPolicies } from "../../../src/controllers/common/fqdn.ts"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import {
  languageModelController,
  modelControllerOptionsFromSettings,
} from "../../../src/controllers/languagemodel/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { layerFromFile } from "../../../src/kube/client.ts"
import { buildFqdnPolicy } from "../../../src/network/cilium.ts"
import { Dns } from "../../../src/network/dns.ts"
import { egressSettingsFrom } from "../../../src/network/settings.ts"
import { settingsFrom } from "../../../src/settings.ts"
import {
  createNamespace,
  deleteNamespace,
  kubeconfigPath,
  kubectl,
  makeKubeConfig,
  uniqueName,
} from "../setup/context.ts"
import { installCrds, waitEstablished } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"
import { poll } from "./support.ts"

/** Cilium release whose CRD is installed (served by the Go module proxy; its zip is ~38 MB). */
const CILIUM_VERSION = "1.20.2"
const CRD = "ciliumnetworkpolicies.cilium.io"
const RESYNC_MS = 2_000
const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
type Json = Record<string, unknown>

const ciliumCrdFile = (): string => {
  const out = execFileSync(
    "go",
    ["mod", "download", "-json", `github.com/cilium/cilium@v${CILIUM_VERSION}`],
    {
      cwd: tmpdir(),
      encoding: "utf8",
      env: { ...process.env, GOFLAGS: "-mod=mod" },
    },
  )
  const dir = (JSON.parse(out) as { Dir?: string }).Dir
  if (dir === undefined) throw new Error(`go mod download gave no Dir for cilium v${CILIUM_VERSION}: ${out}`)
  return join(dir, "pkg", "k8s", "apis", "cilium.io", "client", "crds", "v2", "ciliumnetworkpolicies.yaml")
}

const must = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
const getJson = async (what: string, ns: string): Promise<Json | undefined> => {
  const r = await kubectl(["get", what, "-n", ns, "-o", "json"])
  if (r.exitCode !== 0) {
    if (r.stderr.includes("NotFound")) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Json
}
const meta = (o: Json | undefined) =>
  o?.metadata as { uid: string; resourceVersion: string; ownerReferences?: ReadonlyArray<Json> } | undefined

const settingsPromise = Effect.runPromise(
  settingsFrom({ LANGOP_CILIUM_FQDN_POLICIES: "true", LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s" }),
)

let op: RunningOperator | undefined
let ns = ""
let cluster = ""

beforeAll(async () => {
  await installCrds()
  await must([
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager=langop-tests",
    "-f",
    ciliumCrdFile(),
  ])
  await waitEstablished([CRD])
  const settings = await settingsPromise
  const tool = toolControllerOptionsFromSettings(settings)
  const model = modelControllerOptionsFromSettings(settings)
  if (Result.isFailure(tool)) throw new Error(tool.failure)
  if (Result.isFailure(model)) throw new Error(model.failure)
  const agent = agentControllerOptionsFromSettings(settings)
  if (Result.isFailure(agent)) throw new Error(agent.failure)
  const controllers = [
    languageToolController(tool.success),
    languageModelController(model.success),
    languageAgentController(agent.success),
  ]
  op = await startOperator(controllers, {
    resyncPeriodMs: RESYNC_MS,
    dns: Dns.layerTest({
      "api.github.com": { _tag: "Resolved", addresses: ["192.0.2.10"] },
      "githubusercontent.com": { _tag: "Resolved", addresses: ["192.0.2.11"] },
      "api.openai.com": { _tag: "Resolved", addresses: ["203.0.113.30"] },
      "hooks.slack.com": { _tag: "Resolved", addresses: ["192.0.2.20"] },
    }),
  })
  ns = await createNamespace(makeKubeConfig(), "fqdn")
  cluster = uniqueName("fqdn-cl")
  await must(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      metadata: { name: cluster },
      spec: { namespace: ns },
    }),
  )
  await must([
    "patch",
    "languagecluster",
    cluster,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { phase: "Ready", namespace: ns } }),
  ])
}, 180_000)

afterAll(async () => {
  await op?.stop()
  if (ns !== "") await deleteNamespace(makeKubeConfig(), ns)
  if (cluster !== "") await kubectl(["delete", "languagecluster", cluster, "--wait=false"])
  // Leave the shared control plane as the other files expect it: no Cilium CRD.
  await kubectl(["delete", "crd", CRD, "--wait=false"])
})

const egress = [
  { to: { dns: ["api.github.com", "*.githubusercontent.com"] }, ports: [{ port: 443 }] },
  { to: { cidr: "192.0.2.0/24" }, ports: [{ port: 8443 }] },
]
const tool = (name: string, spec: Json = {}) => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageTool",
  metadata: { name },
  spec: {
    clusterRef: cluster,
    image: "ghcr.io/langop/mcp-git:1.0",
    port: 8080,
    egress,
    ...spec,
  },
})

describe("Cilium FQDN policies", () => {
  test("a service-mode tool gets <name>-fqdn beside its NetworkPolicy: owned, exactly as built, stable", async () => {
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(tool("git")))
    const cnp = await vi.waitFor(async () => {
      const o = await getJson("ciliumnetworkpolicy/git-fqdn", ns)
      if (o === undefined) throw new Error("git-fqdn not there yet")
      return o
    }, poll)
    const owner = meta(await getJson("languagetool/git", ns))
    expect(meta(cnp)?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageTool", name: "git", uid: owner?.uid, controller: true }),
    ])
    // What the API server stored (after validating and pruning with Cilium's schema) is what we built.
    const settings = Result.getOrThrow(egressSettingsFrom(await settingsPromise))
    const expected = buildFqdnPolicy({ kind: "LanguageTool", name: "git", namespace: ns, egress }, settings)
    expect(cnp.spec).toEqual(expected?.spec)
    expect((cnp.spec as { egress: ReadonlyArray<Json> }).egress[1]).toEqual({
      toFQDNs: [{ matchName: "api.github.com" }, { matchPattern: "*.githubusercontent.com" }],
      toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
    })
    expect(await getJson("networkpolicy/git", ns)).toBeDefined()

    // Settled: once the tool has been reconciled again (resyncs every RESYNC_MS) without a policy write,
    // three more reconciles of the tool controller write the policy no more.
    const writes = () => (op?.writes() ?? []).filter((w) => w.kind === "CiliumNetworkPolicy" && !w.dryRun)
    const reconciles = async () => (await op?.reconciles("languagetool")) ?? 0
    const quietReconcile = async () => {
      const writesBefore = writes().length
      const done = await reconciles()
      await vi.waitFor(async () => expect(await reconciles()).toBeGreaterThan(done), poll)
      return writes().length === writesBefore
    }
    await vi.waitFor(async () => expect(await quietReconcile()).toBe(true), { timeout: 60_000, interval: 10 })
    const version = meta(await getJson("ciliumnetworkpolicy/git-fqdn", ns))?.resourceVersion
    const before = writes().length
    const done = await reconciles()
    await vi.waitFor(async () => expect(await reconciles()).toBeGreaterThanOrEqual(done + 3), poll)
    expect(meta(await getJson("ciliumnetworkpolicy/git-fqdn", ns))?.resourceVersion).toBe(version)
    expect(writes()).toHaveLength(before)
  })

  test("an edit to the policy is reverted; losing its DNS names or going sidecar removes it", async () => {
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(tool("fetch")))
    await vi.waitFor(
      async () => expect(await getJson("ciliumnetworkpolicy/fetch-fqdn", ns)).toBeDefined(),
      poll,
    )
    await must([
      "patch",
      "ciliumnetworkpolicy",
      "fetch-fqdn",
      "-n",
      ns,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "remove", path: "/spec/egress/1" }]),
    ])
    await vi.waitFor(async () => {
      const o = await getJson("ciliumnetworkpolicy/fetch-fqdn", ns)
      expect((o?.spec as { egress?: ReadonlyArray<unknown> } | undefined)?.egress).toHaveLength(2)
    }, poll)

    // Only `*` and a CIDR left: nothing for toFQDNs, so the policy goes.
    await must(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify(tool("fetch", { egress: [{ to: { dns: ["*"] }, ports: [{ port: 443 }] }] })),
    )
    await vi.waitFor(
      async () => expect(await getJson("ciliumnetworkpolicy/fetch-fqdn", ns)).toBeUndefined(),
      poll,
    )

    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(tool("sidecar")))
    await vi.waitFor(
      async () => expect(await getJson("ciliumnetworkpolicy/sidecar-fqdn", ns)).toBeDefined(),
      poll,
    )
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(tool("sidecar", { deploymentMode: "sidecar" })))
    await vi.waitFor(
      async () => expect(await getJson("ciliumnetworkpolicy/sidecar-fqdn", ns)).toBeUndefined(),
      poll,
    )
  })

  test("a policy of that name controlled by someone else is left alone and reported", async () => {
    const other = await must(
      ["create", "-n", ns, "-o", "json", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "someone-else" } }),
    )
    const otherUid = (JSON.parse(other) as { metadata: { uid: string } }).metadata.uid
    const foreign = {
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: {
        name: "taken-fqdn",
        ownerReferences: [
          { apiVersion: "v1", kind: "ConfigMap", name: "someone-else", uid: otherUid, controller: true },
        ],
      },
      spec: {
        endpointSelector: { matchLabels: { app: "other" } },
        egress: [{ toFQDNs: [{ matchName: "x.example" }] }],
      },
    }
    await must(["create", "-n", ns, "-f", "-"], JSON.stringify(foreign))
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(tool("taken")))
    const status = await vi.waitFor(async () => {
      const t = await getJson("languagetool/taken", ns)
      const conditions = (t?.status as { conditions?: ReadonlyArray<Json> } | undefined)?.conditions ?? []
      const ready = conditions.find((c) => c.type === "Ready")
      if (ready?.status !== "False" || !String(ready.message).includes("taken-fqdn"))
        throw new Error(`Ready is ${JSON.stringify(ready)}`)
      return ready
    }, poll)
    expect(status.reason).toBe("NameConflict")
    expect(status.message).toContain(
      'CiliumNetworkPolicy "taken-fqdn" is controlled by ConfigMap someone-else',
    )
    const kept = await getJson("ciliumnetworkpolicy/taken-fqdn", ns)
    expect(kept?.spec).toEqual(foreign.spec)
  })

  test("a model proxy's policy names its provider host", async () => {
    const secret = parse(readFileSync(join(EXAMPLES, "secret-openai-credentials.yaml"), "utf8")) as Json
    const model = parse(readFileSync(join(EXAMPLES, "languagemodel.yaml"), "utf8")) as Json
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(secret))
    await must(["apply", "-n", ns, "-f", "-"], JSON.stringify(model))
    const name = (model.metadata as { name: string }).name
    const cnp = await vi.waitFor(async () => {
      const o = await getJson(`ciliumnetworkpolicy/${name}-fqdn`, ns)
      if (o === undefined) throw new Error("model policy not there yet")
      return o
    }, poll)
    expect((cnp.spec as { egress: ReadonlyArray<Json> }).egress).toContainEqual({
      toFQDNs: [{ matchName: "api.openai.com" }],
      toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
    })
  })

  test("an agent's policy has its own names and those of its sidecar tools", async () => {
    // The model of the previous test is the agent's; a sidecar tool brings its own DNS rule.
    await must(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify(
        tool("notes", {
          deploymentMode: "sidecar",
          egress: [{ to: { dns: ["api.github.com"] }, ports: [{ port: 443 }] }],
        }),
      ),
    )
    await must(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageAgent",
        metadata: { name: "notifier" },
        spec: {
          clusterRef: cluster,
          image: "ghcr.io/langop/agent:1.0",
          instructions: "Post summaries to Slack.",
          modelRefs: [{ name: "gpt-4o-mini" }],
          toolRefs: [{ name: "notes" }],
          egress: [{ to: { dns: ["hooks.slack.com"] }, ports: [{ port: 443 }] }],
        },
      }),
    )
    const cnp = await vi.waitFor(async () => {
      const o = await getJson("ciliumnetworkpolicy/notifier-fqdn", ns)
      if (o === undefined) throw new Error("agent policy not there yet")
      return o
    }, poll)
    const agentUid = meta(await getJson("languageagent/notifier", ns))?.uid
    expect(meta(cnp)?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageAgent", name: "notifier", uid: agentUid, controller: true }),
    ])
    expect((cnp.spec as { endpointSelector: Json }).endpointSelector).toEqual({
      matchLabels: expect.objectContaining({
        "app.kubernetes.io/name": "notifier",
        "langop.io/kind": "LanguageAgent",
      }),
    })
    expect((cnp.spec as { egress: ReadonlyArray<Json> }).egress).toContainEqual({
      toFQDNs: [{ matchName: "api.github.com" }, { matchName: "hooks.slack.com" }],
      toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
    })
  })

  test("with the setting turned off, a start removes the policies the operator wrote, and only those", async () => {
    await op?.stop()
    op = undefined
    const before = await must(["get", "ciliumnetworkpolicies", "-n", ns, "-o", "name"])
    expect(before).toContain("git-fqdn")
    expect(before).toContain("taken-fqdn")
    const removed = await Effect.runPromise(
      Effect.provide(removeFqdnPolicies, layerFromFile(kubeconfigPath())),
    )
    expect(removed).toBeGreaterThanOrEqual(3) // git (tool), gpt-4o-mini (model), notifier (agent)
    const after = await must(["get", "ciliumnetworkpolicies", "-n", ns, "-o", "name"])
    expect(after.trim()).toBe("ciliumnetworkpolicy.cilium.io/taken-fqdn")
  })
})
