// A workload whose state cannot be read: the agent controller's own requests go out as a ServiceAccount
// that may do everything it needs except GET Deployments (its caches still list and watch as admin), so
// the real API server answers the Deployment read with 403. The agent then reports phase Unknown and
// WorkloadAvailable=Unknown naming the failed read, writes no Deployment, and recovers by itself once the
// read is allowed again.
import { KubeConfig } from "@kubernetes/client-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import { KubeClient, type KubeClientShape, layerFromKubeConfig } from "../../../src/kube/client.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { kubectl, makeKubeConfig, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

type Json = Record<string, unknown>

const id = uniqueName("unreadable")
const saNamespace = "default"
let op: RunningOperator | undefined
let scope: Scope.Closeable | undefined

const run = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`)
  return r.stdout
}
const apply = (obj: Json) => run(["apply", "-f", "-"], JSON.stringify(obj))

const WRITE = ["list", "watch", "create", "update", "patch", "delete"]
/** Every group the agent controller touches; `get` on all of them but apps (Deployments). */
const GROUPS = ["", "batch", "networking.k8s.io", "langop.io", "rbac.authorization.k8s.io", "events.k8s.io"]
const rules = (deploymentGet: boolean) => [
  { apiGroups: [...GROUPS, "apps"], resources: ["*"], verbs: WRITE },
  { apiGroups: GROUPS, resources: ["*"], verbs: ["get"] },
  ...(deploymentGet ? [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }] : []),
]
const role = (deploymentGet: boolean) =>
  apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: id, labels: { "langop.io/test": "true" } },
    rules: rules(deploymentGet),
  })

/** A KubeClient that authenticates as the test's ServiceAccount against the test cluster. */
const serviceAccountClient = async (): Promise<KubeClientShape> => {
  const token = (await run(["create", "token", id, "-n", saNamespace, "--duration=1h"])).trim()
  const admin = makeKubeConfig()
  const cluster = admin.getCurrentCluster()
  if (cluster === null) throw new Error("no current cluster in the test kubeconfig")
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: id, token }],
    contexts: [{ name: id, cluster: cluster.name, user: id }],
    currentContext: id,
  })
  scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layerFromKubeConfig(kc), scope as Scope.Scope))
  return Context.get(context, KubeClient)
}

beforeAll(async () => {
  await installCrds()
  await run(["create", "serviceaccount", id, "-n", saNamespace])
  await role(false)
  await apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: id, labels: { "langop.io/test": "true" } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: id },
    subjects: [{ kind: "ServiceAccount", name: id, namespace: saNamespace }],
  })
  const client = await serviceAccountClient()
  const settings = await Effect.runPromise(settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "1s" }))
  const options = agentControllerOptionsFromSettings(settings)
  if (options._tag === "Failure") throw new Error(options.failure)
  const agent = languageAgentController(options.success)
  op = await startOperator([
    { ...agent, reconcile: (req) => agent.reconcile(req).pipe(Effect.provideService(KubeClient, client)) },
  ])
}, 120_000)

afterAll(async () => {
  await op?.stop()
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  await kubectl(["delete", "clusterrolebinding,clusterrole", id, "--ignore-not-found"])
  await kubectl(["delete", "serviceaccount", id, "-n", saNamespace, "--ignore-not-found"])
})

interface AgentView {
  readonly status?: {
    readonly phase?: string
    readonly conditions?: ReadonlyArray<{ type: string; status: string; reason: string; message: string }>
  }
}

const agentOf = async (namespace: string): Promise<AgentView> =>
  JSON.parse(await run(["get", "languageagent", "bot", "-n", namespace, "-o", "json"])) as AgentView

const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await check()
    if (r !== undefined) return r
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe("LanguageAgent whose workload cannot be read", () => {
  test("phase Unknown with the failed read named; no Deployment written; recovers once readable", async ({
    namespace,
  }) => {
    await apply({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageModel",
      metadata: { name: "gpt", namespace },
      spec: { provider: "openai", modelName: "gpt-4o-mini" },
    })
    await run([
      "patch",
      "languagemodel",
      "gpt",
      "-n",
      namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { phase: "Ready" } }),
    ])
    await apply({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      metadata: { name: "bot", namespace },
      spec: { image: "ghcr.io/langop/agent:1.0", modelRefs: [{ name: "gpt" }] },
    })
    const unknown = await eventually("phase Unknown", async () => {
      const a = await agentOf(namespace)
      return a.status?.phase === "Unknown" ? a : undefined
    })
    const workload = unknown.status?.conditions?.find((c) => c.type === "WorkloadAvailable")
    expect(workload).toMatchObject({ status: "Unknown", reason: "DeploymentError" })
    expect(workload?.message).toContain('cannot read Deployment "bot"')
    expect(workload?.message).toContain("forbidden")
    expect(unknown.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False" })
    expect((await kubectl(["get", "deployment", "bot", "-n", namespace])).exitCode).not.toBe(0)

    await role(true)
    await eventually("the Deployment and a known phase", async () => {
      const a = await agentOf(namespace)
      const created = (await kubectl(["get", "deployment", "bot", "-n", namespace])).exitCode === 0
      return created && a.status?.phase !== undefined && a.status.phase !== "Unknown" ? a : undefined
    })
  })
})
