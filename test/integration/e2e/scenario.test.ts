// The end-to-end scenario (issue #7's acceptance test) on the local control plane, as a user sees it:
// the admission server (defaulting, validation, Pod sidecar injection) and ALL registered controllers
// (src/operator/controllers.ts) run in-process; the examples of deploy/examples are applied with kubectl;
// Pods are made by the real ReplicaSet / Job controllers and run on the kwok node.
//
//   1. cluster, model (+ Secret), service tool `web-fetch`, sidecar tool `workspace-files`, personas
//      `helpful-base` ← `support-agent`, agent `support` → all Ready at their current generation; the
//      agent's Deployment env/config, its Pods with the injected native sidecar, Running.
//   2. a change of the parent persona, then of the sidecar tool's image → new ConfigMap content, the
//      agent's Pods roll (new ReplicaSet), new Pods carry the new sidecar image.
//   3. deleting the agent removes everything it owned (GC).
//   4. the scheduled example gets a CronJob; a Job made from it (`kubectl create job --from`) completes.
//
// Adaptation of the examples (the files are not edited): the test runs in a fresh namespace, so the
// LanguageCluster example is applied under a unique name with `spec.namespace` = that namespace (the
// controller adopts it) and the members' `clusterRef: demo` points at that name. Test infrastructure
// that is not an example: a pre-bound PV for the workspace claim (kwok has no storage provisioner) and
// fixed DNS answers for the model's provider host (no internet here).
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, onTestFailed, test, vi } from "vitest"
import { Dns } from "../../../src/network/dns.ts"
import { operatorControllers } from "../../../src/operator/controllers.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { createNamespace, deleteNamespace, kubectl, makeKubeConfig, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"
import {
  apply,
  condition,
  envOf,
  example,
  get,
  isRunning,
  type Json,
  list,
  member,
  must,
  type Obj,
  OPENAI_IP,
  type Pod,
  podHash,
  ready,
  readyNow,
  sidecarOf,
  WAIT,
  withSpec,
} from "./support.ts"

// ---------------------------------------------------------------------------------------------------------

interface World {
  readonly ns: string
  readonly cluster: string
  readonly pv: string
}

let op: RunningOperator | undefined
let webhook: WebhookHandle | undefined
let world: World | undefined
/** A failed step makes the later ones meaningless: they are skipped, not reported as extra failures. */
let broken = false

const w = (): World => {
  if (world === undefined) throw new Error("setup did not finish")
  return world
}

/** The agent's Running pods (not being deleted). */
const agentPods = async (name: string) =>
  (await list<Pod>("pod", w().ns, `app.kubernetes.io/name=${name}`)).filter(isRunning)

beforeAll(async () => {
  const t0 = Date.now()
  await installCrds()
  webhook = await startWebhook()
  await webhook.waitUntilServing()
  const settings = await Effect.runPromise(settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s" }))
  const controllers = operatorControllers(settings)
  if (Result.isFailure(controllers)) throw new Error(controllers.failure.join("\n"))
  op = await startOperator(controllers.success, {
    dns: Dns.layerTest({ "api.openai.com": { _tag: "Resolved", addresses: [OPENAI_IP] } }),
  })
  const ns = await createNamespace(makeKubeConfig(), "e2e")
  world = { ns, cluster: uniqueName("e2e"), pv: uniqueName("e2e-pv") }
  console.error(
    `[e2e] setup (CRDs, webhook, ${controllers.success.length} controllers) ${Date.now() - t0} ms`,
  )
}, 120_000)

afterAll(async () => {
  // Our objects go while the operator still runs (it removes its finalizers), then the rest.
  if (world !== undefined) {
    const { ns, cluster, pv } = world
    await kubectl([
      "delete",
      "languageagents,languageclients,languagetools,languagemodels,languagepersonas",
      "--all",
      "-n",
      ns,
      "--timeout=60s",
    ])
    await kubectl(["delete", "languagecluster", cluster, "--ignore-not-found", "--timeout=60s"])
    await kubectl(["delete", "pv", pv, "--ignore-not-found", "--wait=false"])
  }
  await op?.stop()
  await webhook?.close()
  if (world !== undefined) await deleteNamespace(makeKubeConfig(), world.ns)
}, 180_000)

/** One step of the scenario; skipped once an earlier step failed. */
const step = (name: string, body: () => Promise<void>, timeoutMs = 150_000) =>
  test(
    name,
    async (ctx) => {
      if (broken) ctx.skip()
      onTestFailed(() => {
        broken = true
      })
      const t0 = Date.now()
      await body()
      console.error(`[e2e] ${name}: ${Date.now() - t0} ms`)
    },
    timeoutMs,
  )

describe("end-to-end scenario (webhook + every controller, examples applied with kubectl)", () => {
  step("1. the examples become Ready; the agent's Pods carry the injected sidecar and run", async () => {
    const { ns, cluster, pv } = w()
    // kwok has no storage provisioner: a PV bound in advance to the workspace claim the agent will make.
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
    const clusterExample = example("languagecluster.yaml")
    await apply(ns, [
      { ...withSpec(clusterExample, { namespace: ns }), metadata: { name: cluster } },
      ...[
        "secret-openai-credentials.yaml",
        "languagemodel.yaml",
        "languagetool-web-fetch.yaml",
        "languagetool-workspace-files.yaml",
        "languagepersona-base.yaml",
        "languagepersona-support.yaml",
        "languageagent.yaml",
      ].map((f) => member(f, cluster)),
    ])

    const expected: ReadonlyArray<readonly [kind: string, name: string, phase: string]> = [
      ["languagemodel", "gpt-4o-mini", "Ready"],
      ["languagetool", "web-fetch", "Running"],
      ["languagetool", "workspace-files", "Running"],
      ["languagepersona", "helpful-base", "Ready"],
      ["languagepersona", "support-agent", "Ready"],
      ["languageagent", "support", "Running"],
    ]
    await vi.waitFor(async () => {
      const lc = JSON.parse(await must(["get", "languagecluster", cluster, "-o", "json"])) as Obj
      expect(ready(lc), `LanguageCluster/${cluster}`).toMatchObject({ phase: "Ready" })
      expect(readyNow(lc, "Ready"), JSON.stringify(ready(lc))).toBe(true)
      for (const [kind, name, phase] of expected) {
        const o = await get(kind, ns, name)
        expect(readyNow(o, phase), `${kind}/${name}: ${JSON.stringify(ready(o))}`).toBe(true)
      }
    }, WAIT)

    // The Deployment: env and config as the agent sees them.
    const deployment = await get("deployment", ns, "support")
    const template = deployment?.spec?.template
    const agentContainer = template?.spec?.containers.find((c) => c.name === "agent")
    const env = envOf(agentContainer)
    expect(env).toMatchObject({
      AGENT_NAME: "support",
      AGENT_NAMESPACE: ns,
      AGENT_MODE: "interactive",
      PERSONA_NAME: "support-agent",
      PERSONA_TONE: "friendly",
      PERSONA_LANGUAGE: "en",
      MODEL_ENDPOINTS: `http://gpt-4o-mini.${ns}.svc.cluster.local:8000`,
      LLM_MODEL: "gpt-4o-mini",
      MCP_SERVERS: `http://web-fetch.${ns}.svc.cluster.local:8080,http://localhost:9000`,
      AGENT_CONFIG_DIR: "/etc/langop/agent",
    })
    // The merged persona: parent prompt, child prompt, the agent's own instructions, both personas'
    // guidelines, the inherited style.
    const instructions = env.AGENT_INSTRUCTIONS ?? ""
    expect(instructions).toMatch(/^You are a helpful assistant\./u)
    for (const part of [
      "You work in first-line product support.",
      "Help customers with product questions.",
      "Additional Guidelines:",
      "- Ask a clarifying question when a request is ambiguous.",
      "- Quote the relevant documentation page when you answer from it.",
      "- [escalate-outage] When The user reports that the service is down for several users:",
      "- Tone: friendly",
      "- Language: en",
    ])
      expect(instructions).toContain(part)
    const cm = await get("configmap", ns, "support-agent")
    expect(cm?.data?.instructions).toBe(instructions)
    expect(cm?.data?.persona_name).toBe("support-agent")
    expect(JSON.parse(cm?.data?.["tools.json"] ?? "[]")).toEqual([
      expect.objectContaining({ name: "web-fetch", deploymentMode: "service" }),
      expect.objectContaining({
        name: "workspace-files",
        deploymentMode: "sidecar",
        url: "http://localhost:9000",
      }),
    ])
    // The ConfigMap is what AGENT_CONFIG_DIR points at; the workspace is mounted where the spec says.
    expect(agentContainer?.volumeMounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "workspace", mountPath: "/workspace" }),
        expect.objectContaining({ name: "agent-config", mountPath: "/etc/langop/agent" }),
      ]),
    )
    expect((template?.spec as Json | undefined)?.volumes).toEqual(
      expect.arrayContaining([
        { name: "workspace", persistentVolumeClaim: { claimName: "support-workspace" } },
        expect.objectContaining({
          name: "agent-config",
          configMap: expect.objectContaining({ name: "support-agent" }),
        }),
      ]),
    )
    expect(template?.metadata?.annotations?.["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)
    expect(template?.metadata?.annotations?.["langop.io/sidecar-tools"]).toBe(`${ns}/workspace-files`)
    // The controller only marks the template; the sidecar comes from the webhook.
    expect(template?.spec?.initContainers ?? []).toEqual([])

    // Its Pod: made by the ReplicaSet controller, admitted through our webhook, Running on kwok.
    const pods = await vi.waitFor(async () => {
      const running = await agentPods("support")
      expect(running).toHaveLength(1)
      return running
    }, WAIT)
    const pod = pods[0]
    expect(pod?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "ReplicaSet", controller: true }),
    ])
    expect(pod?.spec.nodeName).toMatch(/^kwok-/u)
    expect(pod?.metadata.annotations?.["langop.io/injected-tools"]).toBe(`${ns}/workspace-files`)
    const sidecar = sidecarOf(pod)
    expect(sidecar).toMatchObject({ image: "ghcr.io/langop/mcp-filesystem:1.0", restartPolicy: "Always" })
    expect(envOf(sidecar)).toMatchObject({ ALLOWED_ROOT: "/workspace", PORT: "9000" })
    for (const c of [sidecar, pod?.spec.containers.find((x) => x.name === "agent")])
      expect(c?.volumeMounts, c?.name).toEqual(
        expect.arrayContaining([{ name: "workspace", mountPath: "/workspace" }]),
      )
    expect(webhook?.calls("/mutate/pods") ?? 0).toBeGreaterThan(0)
  })

  step("2. a changed parent persona and a new sidecar image roll the agent's Pods", async () => {
    const { ns, cluster } = w()
    const before = await get("configmap", ns, "support-agent")
    const configHash = async () =>
      (await get("deployment", ns, "support"))?.spec?.template?.metadata?.annotations?.[
        "langop.io/config-hash"
      ]
    const hashBefore = await configHash()
    const [first] = await agentPods("support")
    if (first === undefined) throw new Error("no running agent pod")

    // The parent persona changes: tone and one more guideline.
    const base = example("languagepersona-base.yaml")
    const instructions = [
      ...((base.spec as Json).instructions as ReadonlyArray<string>),
      "Answer in English.",
    ]
    await apply(ns, [withSpec(base, { tone: "formal", instructions })])
    const afterPersona = await vi.waitFor(async () => {
      const cm = await get("configmap", ns, "support-agent")
      expect(cm?.data?.instructions).toContain("- Tone: formal")
      expect(cm?.data?.instructions).toContain("- Answer in English.")
      return cm
    }, WAIT)
    expect(afterPersona?.data?.instructions).not.toBe(before?.data?.instructions)
    await vi.waitFor(async () => expect(await configHash()).not.toBe(hashBefore), WAIT)
    const second = await vi.waitFor(async () => {
      const running = await agentPods("support")
      expect(running.map(podHash)).toHaveLength(1)
      expect(podHash(running[0] ?? first)).not.toBe(podHash(first))
      return running[0]
    }, WAIT)
    expect(envOf(second?.spec.containers.find((c) => c.name === "agent"))).toMatchObject({
      PERSONA_TONE: "formal",
    })
    expect(sidecarOf(second)?.image).toBe("ghcr.io/langop/mcp-filesystem:1.0")

    // The sidecar tool's image changes.
    await apply(ns, [
      withSpec(member("languagetool-workspace-files.yaml", cluster), {
        image: "ghcr.io/langop/mcp-filesystem:1.1",
      }),
    ])
    const third = await vi.waitFor(async () => {
      const running = await agentPods("support")
      expect(running).toHaveLength(1)
      expect(sidecarOf(running[0])?.image).toBe("ghcr.io/langop/mcp-filesystem:1.1")
      return running[0]
    }, WAIT)
    expect(podHash(third ?? first)).not.toBe(podHash(second ?? first))
    expect(third?.metadata.annotations?.["langop.io/injected-tools"]).toBe(`${ns}/workspace-files`)
    const replicaSets = await list("replicaset", ns, "app.kubernetes.io/name=support")
    expect(new Set(replicaSets.map(podHash)).size).toBe(3)
    // Everything settles Ready again at the new generations.
    await vi.waitFor(async () => {
      for (const [kind, name, phase] of [
        ["languagepersona", "helpful-base", "Ready"],
        ["languagepersona", "support-agent", "Ready"],
        ["languagetool", "workspace-files", "Running"],
        ["languageagent", "support", "Running"],
      ] as const) {
        const o = await get(kind, ns, name)
        expect(readyNow(o, phase), `${kind}/${name}: ${JSON.stringify(ready(o))}`).toBe(true)
      }
    }, WAIT)
  })

  step("3. deleting the agent removes everything it owned", async () => {
    const { ns } = w()
    const agent = await get("languageagent", ns, "support")
    const uid = agent?.metadata.uid ?? ""
    const kinds = [
      "deployment",
      "replicaset",
      "pod",
      "configmap",
      "persistentvolumeclaim",
      "service",
      "networkpolicy",
      "serviceaccount",
      "role",
      "rolebinding",
      "cronjob",
      "job",
    ]
    /** Objects controlled by the agent, or by something it controls (ReplicaSets, their Pods). */
    const owned = async () => {
      const all = (
        await Promise.all(kinds.map(async (k) => (await list(k, ns)).map((o) => ({ k, o }))))
      ).flat()
      const uids = new Set([uid])
      // Three rounds cover agent → Deployment → ReplicaSet → Pod.
      for (let i = 0; i < 3; i++)
        for (const { o } of all)
          if (o.metadata.ownerReferences?.some((r) => uids.has(r.uid))) uids.add(o.metadata.uid)
      return all
        .filter(({ o }) => o.metadata.uid !== uid && uids.has(o.metadata.uid))
        .map(({ k, o }) => `${k}/${o.metadata.name}`)
    }
    const before = await owned()
    for (const o of [
      "deployment/support",
      "configmap/support-agent",
      "persistentvolumeclaim/support-workspace",
      "service/support",
      "networkpolicy/support",
    ])
      expect(before).toContain(o)
    expect(before.some((o) => o.startsWith("pod/"))).toBe(true)

    await must(["delete", "languageagent", "support", "-n", ns, "--wait=false"])
    await vi.waitFor(async () => {
      expect(await get("languageagent", ns, "support")).toBeUndefined()
      expect(await owned()).toEqual([])
    }, WAIT)
    // The tools, model and personas it used are not its children.
    expect(await get("deployment", ns, "web-fetch")).toBeDefined()
    expect(await get("languagepersona", ns, "support-agent")).toBeDefined()
  })

  step("4. the scheduled example gets a CronJob; a Job made from it completes on kwok", async () => {
    const { ns, cluster } = w()
    await apply(ns, [member("languageagent-scheduled.yaml", cluster)])
    await vi.waitFor(async () => {
      const a = await get("languageagent", ns, "daily-digest")
      expect(readyNow(a, "Running"), JSON.stringify(ready(a))).toBe(true)
    }, WAIT)
    const cronJob = await get("cronjob", ns, "daily-digest")
    expect(cronJob?.spec).toMatchObject({ schedule: "0 7 * * 1-5", concurrencyPolicy: "Forbid" })
    expect(await get("deployment", ns, "daily-digest")).toBeUndefined()

    await must(["create", "job", "daily-digest-now", "--from=cronjob/daily-digest", "-n", ns])
    await vi.waitFor(async () => {
      const job = await get("job", ns, "daily-digest-now")
      expect(condition(job, "Complete")?.status, JSON.stringify(job?.status)).toBe("True")
    }, WAIT)
    const [pod] = await list<Pod>("pod", ns, "job-name=daily-digest-now")
    expect(pod?.spec.nodeName).toMatch(/^kwok-/u)
    expect(envOf(pod?.spec.containers.find((c) => c.name === "agent"))).toMatchObject({
      AGENT_MODE: "scheduled",
      PERSONA_NAME: "helpful-base",
      MCP_SERVERS: `http://web-fetch.${ns}.svc.cluster.local:8080`,
    })
    await vi.waitFor(async () => {
      const a = await get("languageagent", ns, "daily-digest")
      expect(a?.status).toMatchObject({ executionCount: 1, successfulExecutions: 1 })
    }, WAIT)
  })
})
