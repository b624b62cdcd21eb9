// The LanguageAgent controller against the local control plane. The persona controller runs in-process
// too (agents need Ready personas); models, tools and the cluster are created from deploy/examples with
// their status set by the test (their controllers are not under test here). No admission webhook is
// installed, so agent Pods run without injected sidecars; the sidecar marks are checked on the template.
//
// Covered: the support example → Deployment (env, config hash, sidecar marks, restricted Pods on kwok),
// ConfigMap, PVC, Service, NetworkPolicy, Ready; a reconcile and a resync with nothing changed write
// nothing; drift repaired; a missing model is waited for; scheduled agent → CronJob whose Job (created
// from its template) completes and is counted; event-driven agent → Service and least-rights RBAC; a mode
// switch removes the old workload; deleting the agent removes what it owned (GC).
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse } from "yaml"
import {
  agentControllerOptionsFromSettings,
  languageAgentController,
} from "../../../src/controllers/languageagent/index.ts"
import { languagePersonaController } from "../../../src/controllers/languagepersona/index.ts"
import { Dns } from "../../../src/network/dns.ts"
import { DnsMemory } from "../../../src/network/memory.ts"
import type { Controller } from "../../../src/runtime/controller.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const RESYNC_MS = 4_000

type Json = Record<string, unknown>
type Obj = {
  readonly metadata: {
    readonly name: string
    readonly uid: string
    readonly generation?: number
    readonly finalizers?: ReadonlyArray<string>
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
    readonly ownerReferences?: ReadonlyArray<{ readonly uid: string; readonly controller?: boolean }>
  }
  readonly spec?: Json
  readonly status?: Json
  readonly data?: Record<string, string>
  readonly rules?: ReadonlyArray<Json>
  readonly subjects?: ReadonlyArray<Json>
}

let op: RunningOperator | undefined

beforeAll(async () => {
  await installCrds()
  const settings = await Effect.runPromise(
    settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "2s", LANGOP_DEFAULT_WORKSPACE_FSGROUP: "2000" }),
  )
  const options = agentControllerOptionsFromSettings(settings)
  if (options._tag === "Failure") throw new Error(options.failure)
  const [dns, memory] = Effect.runSync(
    Effect.gen(function* () {
      return [yield* Dns, yield* DnsMemory] as const
    }).pipe(Effect.provide(Layer.merge(Dns.layerTest({}), DnsMemory.layer))),
  )
  const agentCtrl = languageAgentController(options.success)
  const agent: Controller<
    Effect.Services<ReturnType<typeof agentCtrl.reconcile>> extends infer R
      ? Exclude<R, Dns | DnsMemory>
      : never
  > = {
    ...agentCtrl,
    reconcile: (req) =>
      agentCtrl
        .reconcile(req)
        .pipe(Effect.provideService(Dns, dns), Effect.provideService(DnsMemory, memory)),
  }
  const persona = languagePersonaController({ fieldManager: "langop-operator", dependencyWait: "2 seconds" })
  op = await startOperator([agent, persona], { resyncPeriodMs: RESYNC_MS })
}, 120_000)

afterAll(async () => {
  await op?.stop()
})

// ---------------------------------------------------------------------------------------------------------
// kubectl helpers

const run = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`)
  return r.stdout
}

const get = async (kind: string, ns: string, name: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", kind, name, "-n", ns, "-o", "json"])
  if (r.exitCode !== 0) {
    if (r.stderr.includes("NotFound")) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Obj
}

const list = async (kind: string, ns: string, selector?: string): Promise<ReadonlyArray<Obj>> =>
  (
    JSON.parse(await run(["get", kind, "-n", ns, "-o", "json", ...(selector ? ["-l", selector] : [])])) as {
      items: ReadonlyArray<Obj>
    }
  ).items

const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined | false>,
  timeoutMs = 45_000,
) => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const r = await check()
      if (r !== undefined && r !== false) return r
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const example = (file: string): Json => parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json

const applyObject = (ns: string, obj: Json) => run(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj))

const withSpec = (obj: Json, spec: Json): Json => ({ ...obj, spec: { ...(obj.spec as Json), ...spec } })

const setStatus = (kind: string, ns: string | undefined, name: string, status: Json) =>
  run([
    "patch",
    kind,
    name,
    ...(ns === undefined ? [] : ["-n", ns]),
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ])

const condition = (o: Obj | undefined, type: string) =>
  (
    o?.status?.conditions as
      | ReadonlyArray<{ type: string; status: string; reason: string; message: string }>
      | undefined
  )?.find((c) => c.type === type)

const agentWhere = (ns: string, name: string, pred: (a: Obj) => boolean, what: string, timeoutMs?: number) =>
  eventually(
    `${ns}/${name}: ${what}`,
    async () => {
      const a = await get("languageagent", ns, name)
      return a !== undefined && a.status?.observedGeneration === a.metadata.generation && pred(a)
        ? a
        : undefined
    },
    timeoutMs,
  )

const isReady = (a: Obj) => condition(a, "Ready")?.status === "True"

/** A LanguageCluster named uniquely whose status says Ready in `ns`; examples' `clusterRef: demo` point at it. */
const readyCluster = async (ns: string): Promise<string> => {
  const name = uniqueName("cl")
  await run(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      metadata: { name },
      spec: { namespace: ns },
    }),
  )
  await setStatus("languagecluster", undefined, name, { phase: "Ready", namespace: ns })
  return name
}

/** The objects the examples depend on: Secret, models (Ready), tools, personas, and a PV for the workspace. */
const dependencies = async (ns: string, cluster: string) => {
  await applyObject(ns, example("secret-openai-credentials.yaml"))
  for (const file of ["languagemodel.yaml", "languagemodel-local.yaml"]) {
    const model = example(file)
    await applyObject(ns, model)
    await setStatus("languagemodel", ns, (model.metadata as Json).name as string, { phase: "Ready" })
  }
  for (const file of ["languagetool-web-fetch.yaml", "languagetool-workspace-files.yaml"])
    await applyObject(ns, withSpec(example(file), { clusterRef: cluster }))
  for (const file of ["languagepersona-base.yaml", "languagepersona-support.yaml"])
    await applyObject(ns, example(file))
}

/** A pre-bound hostPath PV so the workspace PVC binds (the test cluster has no provisioner). */
const workspaceVolume = async (ns: string, claim: string) => {
  const name = uniqueName("pv")
  await run(
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
        claimRef: { namespace: ns, name: claim },
      },
    }),
  )
}

const agentExample = (file: string, cluster: string, spec: Json = {}) =>
  withSpec(example(file), { clusterRef: cluster, ...spec })

const envOf = (deployment: Obj | undefined): Record<string, unknown> => {
  const containers = ((deployment?.spec?.template as Json)?.spec as Json)?.containers as ReadonlyArray<Json>
  const env = (containers?.[0]?.env ?? []) as ReadonlyArray<{
    name: string
    value?: string
    valueFrom?: unknown
  }>
  return Object.fromEntries(env.map((e) => [e.name, e.value ?? e.valueFrom]))
}

/** The value at `path` inside `o`, or undefined. */
const dig = (o: unknown, ...path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[k] : undefined),
    o,
  )

const writesIn = (ns: string) => (op?.writes() ?? []).filter((w) => w.namespace === ns && w.kind !== "Event")

/** After settling, a poke at the agent and a resync period must cause no write (not even a dry run). */
const noWritesOnceSettled = async (ns: string, name: string) => {
  await new Promise((r) => setTimeout(r, 2_000))
  const before = writesIn(ns).length
  await run(["annotate", "languageagent", name, "-n", ns, `test/poke=${Date.now()}`])
  await new Promise((r) => setTimeout(r, RESYNC_MS + 1_000))
  expect(writesIn(ns).slice(before)).toEqual([])
}

// ---------------------------------------------------------------------------------------------------------

describe("LanguageAgent controller", () => {
  test("the support example becomes Ready with Deployment, ConfigMap, PVC, Service and policy", async ({
    namespace: ns,
  }) => {
    // Pods of the agent must pass the restricted Pod Security Standard.
    await run(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"])
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await workspaceVolume(ns, "support-workspace")
    await applyObject(ns, agentExample("languageagent.yaml", cluster))

    const agent = await agentWhere(
      ns,
      "support",
      (a) => isReady(a) && a.status?.phase === "Running",
      "Ready and Running",
      90_000,
    )
    expect(agent.metadata.finalizers).toContain("langop.io/finalizer")
    expect(
      (dig(agent, "status", "conditions") as ReadonlyArray<{ type: string; status: string; reason: string }>)
        .map((c) => `${c.type}=${c.status}/${c.reason}`)
        .sort(),
    ).toEqual([
      "DependenciesResolved=True/Resolved",
      "EgressResolved=True/Resolved",
      "NetworkPolicyReady=True/Applied",
      "PersonaResolved=True/Resolved",
      "Ready=True/ReconcileSuccess",
      "Reconciled=True/ReconcileSuccess",
      "WorkloadAvailable=True/Available",
      "WorkspaceReady=True/Bound",
    ])
    expect(agent.status).toMatchObject({ activeReplicas: 1, readyReplicas: 1, reason: "ReconcileSuccess" })

    const deployment = await get("deployment", ns, "support")
    const owned = (o: Obj | undefined) =>
      expect(o?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ uid: agent.metadata.uid, controller: true }),
      ])
    owned(deployment)
    expect(deployment?.metadata.labels).toMatchObject({
      "langop.io/cluster": cluster,
      "app.kubernetes.io/name": "support",
    })
    expect(dig(deployment, "spec", "selector", "matchLabels")).toEqual({
      "app.kubernetes.io/managed-by": "language-operator",
      "app.kubernetes.io/name": "support",
      "app.kubernetes.io/part-of": "langop",
      "langop.io/kind": "LanguageAgent",
    })
    expect(dig(deployment, "spec", "strategy", "type")).toBe("Recreate")
    const env = envOf(deployment)
    const names = Object.keys(env)
    expect(names).toEqual([
      "AGENT_NAME",
      "AGENT_NAMESPACE",
      "AGENT_MODE",
      "AGENT_INSTRUCTIONS",
      "AGENT_CONFIG_DIR",
      "PERSONA_NAME",
      "PERSONA_TONE",
      "PERSONA_LANGUAGE",
      "MODEL_ENDPOINTS",
      "LLM_MODEL",
      "OPENAI_API_KEY",
      "MCP_SERVERS",
      "AGENT_MAX_ITERATIONS",
      "AGENT_TIMEOUT",
      "LOG_LEVEL",
      "AGENT_METRICS_ENABLED",
      "AGENT_TRACING_ENABLED",
      "AGENT_LOG_CONVERSATIONS",
      "MEMORY_STORE_TYPE",
      "MEMORY_RETENTION_MAX_MESSAGES",
      "AGENT_SAFETY_CONFIG",
      "AGENT_WEBHOOK_PORT",
    ])
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
      AGENT_MAX_ITERATIONS: "20",
      AGENT_TIMEOUT: "5m",
      AGENT_LOG_CONVERSATIONS: "false",
      MEMORY_RETENTION_MAX_MESSAGES: "200",
      AGENT_SAFETY_CONFIG: '{"maxToolCallsPerIteration":5,"contentFilters":[{"type":"pii","action":"warn"}]}',
      AGENT_WEBHOOK_PORT: "8080",
    })
    expect(String(env.AGENT_INSTRUCTIONS)).toMatch(/^You are a helpful assistant\./u)
    const template = deployment?.spec?.template as {
      metadata: { annotations: Record<string, string> }
      spec: Json
    }
    expect(template.metadata.annotations["langop.io/sidecar-tools"]).toBe(`${ns}/workspace-files`)
    expect(template.metadata.annotations["langop.io/sidecar-hash"]).toMatch(/^[0-9a-f]{64}$/u)
    expect(template.metadata.annotations["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)
    expect((template.spec.volumes as ReadonlyArray<Json>).map((v) => v.name)).toEqual([
      "workspace",
      "agent-config",
    ])

    const cm = await get("configmap", ns, "support-agent")
    owned(cm)
    expect(Object.keys(cm?.data ?? {}).sort()).toEqual([
      "agent.json",
      "instructions",
      "mode",
      "models.json",
      "name",
      "namespace",
      "persona.json",
      "persona_name",
      "tools.json",
    ])
    expect(cm?.data?.instructions).toBe(env.AGENT_INSTRUCTIONS)
    const pvc = await get("persistentvolumeclaim", ns, "support-workspace")
    owned(pvc)
    expect(pvc?.spec).toMatchObject({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
    })
    const service = await get("service", ns, "support")
    owned(service)
    expect(dig(service, "spec", "ports", 0)).toMatchObject({
      port: 80,
      targetPort: 8080,
      name: "http",
    })
    const policy = await get("networkpolicy", ns, "support")
    owned(policy)
    expect(JSON.stringify(policy?.spec)).toContain("10.40.0.0/16")

    // The Pod was admitted under `restricted` and runs on the kwok node.
    const pods = await eventually("a Running agent pod", async () => {
      const p = await list("pod", ns, "app.kubernetes.io/name=support")
      return p.length === 1 && (p[0]?.status as Json)?.phase === "Running" ? p : undefined
    })
    expect(dig(pods[0], "spec", "nodeName")).toBe("kwok-node-0")
    await noWritesOnceSettled(ns, "support")
  })

  test("a reconcile and a resync with nothing changed write nothing; drift is repaired", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(ns, agentExample("languageagent.yaml", cluster, { workspace: { enabled: false } }))
    await agentWhere(ns, "support", (a) => isReady(a), "Ready", 90_000)
    // Settle: let owned-object events die down, then nothing may be written any more.
    await new Promise((r) => setTimeout(r, 3_000))
    const before = writesIn(ns).length
    const reconcilesBefore = (await op?.reconciles("languageagent")) ?? 0
    await run(["annotate", "languageagent", "support", "-n", ns, "test/poke=1"])
    await new Promise((r) => setTimeout(r, RESYNC_MS * 2))
    expect((await op?.reconciles("languageagent")) ?? 0).toBeGreaterThan(reconcilesBefore + 1)
    expect(writesIn(ns).slice(before)).toEqual([])

    // Drift: a deleted ConfigMap comes back; an edited Deployment is restored.
    await run(["delete", "configmap", "support-agent", "-n", ns])
    await eventually("ConfigMap recreated", () => get("configmap", ns, "support-agent"))
    await run(["patch", "deployment", "support", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":3}}'])
    await eventually(
      "replicas restored",
      async () => (await get("deployment", ns, "support"))?.spec?.replicas === 1,
    )
  })

  test("a missing model is reported and waited for", async ({ namespace: ns }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(
      ns,
      agentExample("languageagent.yaml", cluster, {
        modelRefs: [{ name: "not-yet" }],
        workspace: { enabled: false },
      }),
    )
    const waiting = await agentWhere(
      ns,
      "support",
      (a) => condition(a, "DependenciesResolved")?.reason === "ModelNotFound",
      "ModelNotFound",
    )
    expect(waiting.status?.phase).toBe("Pending")
    expect(condition(waiting, "Ready")).toMatchObject({ status: "False", reason: "ModelNotFound" })
    expect(await get("deployment", ns, "support")).toBeUndefined()
    const model = example("languagemodel.yaml")
    await applyObject(ns, { ...model, metadata: { name: "not-yet" } })
    await agentWhere(
      ns,
      "support",
      (a) => condition(a, "DependenciesResolved")?.status === "True",
      "resolved",
    )
    await eventually("Deployment", () => get("deployment", ns, "support"))
  })

  test("a scheduled agent gets a CronJob; a Job from its template completes and is counted", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(ns, agentExample("languageagent-scheduled.yaml", cluster))
    const agent = await agentWhere(ns, "daily-digest", (a) => isReady(a), "Ready")
    expect(agent.status?.phase).toBe("Running")
    expect(condition(agent, "WorkloadAvailable")?.reason).toBe("Scheduled")
    expect(await get("deployment", ns, "daily-digest")).toBeUndefined()
    const cronJob = await get("cronjob", ns, "daily-digest")
    expect(cronJob?.spec).toMatchObject({
      schedule: "0 7 * * 1-5",
      concurrencyPolicy: "Forbid",
      suspend: false,
    })
    const jobSpec = dig(cronJob, "spec", "jobTemplate", "spec") as Json
    expect(jobSpec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 900 })
    expect(((jobSpec.template as Json).spec as Json).restartPolicy).toBe("Never")

    await run(["create", "job", "digest-run-1", "--from=cronjob/daily-digest", "-n", ns])
    const counted = await agentWhere(
      ns,
      "daily-digest",
      (a) => a.status?.executionCount === 1,
      "one execution counted",
      60_000,
    )
    expect(counted.status).toMatchObject({
      successfulExecutions: 1,
      failedExecutions: 0,
      lastExecutionResult: "Succeeded",
      metrics: { successRate: 100 },
    })
    await noWritesOnceSettled(ns, "daily-digest")
  })

  test("a schedule the webhook admits (0 ? * * *) becomes the CronJob's schedule, not InvalidSpec", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(ns, agentExample("languageagent-scheduled.yaml", cluster, { schedule: "0 ? * * *" }))
    const agent = await agentWhere(ns, "daily-digest", (a) => isReady(a), "Ready")
    expect(condition(agent, "Ready")?.reason).toBe("ReconcileSuccess")
    expect((await get("cronjob", ns, "daily-digest"))?.spec?.schedule).toBe("0 ? * * *")
  })

  test("an event-driven agent gets a Service and least-rights RBAC for its triggers", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(ns, agentExample("languageagent-event-driven.yaml", cluster))
    await agentWhere(ns, "incident-triage", (a) => isReady(a), "Ready", 60_000)
    expect(await get("service", ns, "incident-triage")).toBeDefined()
    expect(await get("serviceaccount", ns, "incident-triage")).toBeDefined()
    const role = await get("role", ns, "incident-triage-events")
    expect(role?.rules).toEqual([
      { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
    ])
    const binding = await get("rolebinding", ns, "incident-triage-events")
    expect(binding?.subjects).toEqual([{ kind: "ServiceAccount", name: "incident-triage", namespace: ns }])
    const deployment = await get("deployment", ns, "incident-triage")
    expect(dig(deployment, "spec", "template", "spec", "serviceAccountName")).toBe("incident-triage")
    const env = envOf(deployment)
    expect(env.MODEL_ENDPOINTS).toBe(
      `http://gpt-4o-mini.${ns}.svc.cluster.local:8000,http://llama-local.${ns}.svc.cluster.local:8000`,
    )
    expect(env.AGENT_EVENT_TRIGGERS).toBe(
      '[{"type":"webhook","source":"/alertmanager"},{"type":"kubernetes-event","source":"Pod","filter":{"reason":"BackOff","type":"Warning"}}]',
    )
    await noWritesOnceSettled(ns, "incident-triage")

    // Dropping the triggers removes what they needed.
    await applyObject(ns, agentExample("languageagent-event-driven.yaml", cluster, { eventTriggers: [] }))
    await eventually(
      "RBAC and Service removed",
      async () =>
        (await get("role", ns, "incident-triage-events")) === undefined &&
        (await get("rolebinding", ns, "incident-triage-events")) === undefined &&
        (await get("serviceaccount", ns, "incident-triage")) === undefined &&
        (await get("service", ns, "incident-triage")) === undefined,
    )
  })

  test("switching the mode replaces the workload; deleting the agent removes what it owned", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await workspaceVolume(ns, "support-workspace")
    await applyObject(ns, agentExample("languageagent.yaml", cluster))
    await agentWhere(ns, "support", (a) => isReady(a), "Ready", 90_000)
    await applyObject(
      ns,
      agentExample("languageagent.yaml", cluster, { executionMode: "scheduled", schedule: "*/5 * * * *" }),
    )
    const switched = await agentWhere(
      ns,
      "support",
      (a) => isReady(a) && a.status?.phase === "Running",
      "scheduled and Ready",
    )
    expect(condition(switched, "WorkloadAvailable")?.reason).toBe("Scheduled")
    await eventually(
      "Deployment and Service gone",
      async () =>
        (await get("deployment", ns, "support")) === undefined &&
        (await get("service", ns, "support")) === undefined,
    )
    expect(await get("cronjob", ns, "support")).toBeDefined()

    await run(["delete", "languageagent", "support", "-n", ns, "--wait=false"])
    await eventually("agent gone", async () => (await get("languageagent", ns, "support")) === undefined)
    await eventually(
      "owned objects garbage-collected",
      async () => {
        const left = await Promise.all(
          [
            ["cronjob", "support"],
            ["configmap", "support-agent"],
            ["persistentvolumeclaim", "support-workspace"],
            ["networkpolicy", "support"],
          ].map(async ([kind, name]) => {
            const o = await get(kind ?? "", ns, name ?? "")
            return (
              o === undefined ||
              (o.metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined
            )
          }),
        )
        return left.every((gone) => gone)
      },
      60_000,
    )
  })
  test("a change of an ancestor persona or a sidecar tool rolls the agent", async ({ namespace: ns }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(ns, agentExample("languageagent.yaml", cluster, { workspace: { enabled: false } }))
    await agentWhere(ns, "support", (a) => isReady(a), "Ready", 90_000)
    const annotations = async () =>
      (dig(await get("deployment", ns, "support"), "spec", "template", "metadata", "annotations") ??
        {}) as Record<string, string>
    const before = await annotations()
    const base = example("languagepersona-base.yaml")
    await applyObject(
      ns,
      withSpec(base, { systemPrompt: "You are a terse assistant. Answer in one sentence." }),
    )
    await eventually("instructions re-rendered from the new root prompt", async () =>
      String(envOf(await get("deployment", ns, "support")).AGENT_INSTRUCTIONS).startsWith(
        "You are a terse assistant.",
      ),
    )
    const afterPersona = await annotations()
    expect(afterPersona["langop.io/config-hash"]).not.toBe(before["langop.io/config-hash"])
    expect(afterPersona["langop.io/sidecar-hash"]).toBe(before["langop.io/sidecar-hash"])
    await applyObject(
      ns,
      withSpec(example("languagetool-workspace-files.yaml"), {
        clusterRef: cluster,
        image: "ghcr.io/langop/mcp-filesystem:1.1",
      }),
    )
    await eventually(
      "sidecar hash changed",
      async () => (await annotations())["langop.io/sidecar-hash"] !== before["langop.io/sidecar-hash"],
    )
  })

  test("editing a ConfigMap the agent's env reads rolls the agent", async ({ namespace: ns }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await run(["create", "configmap", "agent-settings", "-n", ns, "--from-literal=mode=calm"])
    await applyObject(
      ns,
      agentExample("languageagent.yaml", cluster, {
        workspace: { enabled: false },
        env: [{ name: "MOOD", valueFrom: { configMapKeyRef: { name: "agent-settings", key: "mode" } } }],
      }),
    )
    await agentWhere(ns, "support", (a) => isReady(a), "Ready", 90_000)
    const hash = async () =>
      String(
        (
          dig(await get("deployment", ns, "support"), "spec", "template", "metadata", "annotations") as
            | Record<string, string>
            | undefined
        )?.["langop.io/config-hash"],
      )
    const before = await hash()
    await run([
      "patch",
      "configmap",
      "agent-settings",
      "-n",
      ns,
      "--type",
      "merge",
      "-p",
      '{"data":{"mode":"busy"}}',
    ])
    await eventually("the config hash to follow the ConfigMap", async () => (await hash()) !== before)
  })

  test("a memory store Secret that appears later unblocks the agent", async ({ namespace: ns }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(
      ns,
      agentExample("languageagent.yaml", cluster, {
        workspace: { enabled: false },
        memoryStore: { type: "redis", connectionSecretRef: { name: "redis-url", key: "url" } },
      }),
    )
    const waiting = await agentWhere(
      ns,
      "support",
      (a) => condition(a, "Ready")?.reason === "MemoryStoreSecretMissing",
      "waiting for the Secret",
    )
    expect(condition(waiting, "DependenciesResolved")?.reason).toBe("MemoryStoreSecretMissing")
    await run(["create", "secret", "generic", "redis-url", "-n", ns, "--from-literal=url=redis://redis:6379"])
    await agentWhere(ns, "support", (a) => isReady(a), "Ready")
    const env = envOf(await get("deployment", ns, "support"))
    expect(env.MEMORY_STORE_URL).toEqual({ secretKeyRef: { name: "redis-url", key: "url" } })
    expect(env.MEMORY_STORE_TYPE).toBe("redis")
  })
  test("WorkspaceReady is False/Pending while the claim is unbound, True/Bound once a volume binds it", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    // A class nothing provisions, so the claim stays Pending whatever StorageClasses the cluster has.
    const storageClass = uniqueName("unprovisioned")
    await applyObject(
      ns,
      agentExample("languageagent.yaml", cluster, {
        workspace: { enabled: true, size: "1Gi", storageClassName: storageClass },
      }),
    )
    const unbound = await agentWhere(
      ns,
      "support",
      (a) => condition(a, "WorkspaceReady") !== undefined,
      "WorkspaceReady reported",
    )
    expect((await get("persistentvolumeclaim", ns, "support-workspace"))?.status).toMatchObject({
      phase: "Pending",
    })
    expect(condition(unbound, "WorkspaceReady")).toMatchObject({ status: "False", reason: "Pending" })
    expect(condition(unbound, "WorkspaceReady")?.message).toContain(`StorageClass "${storageClass}"`)

    await run(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: uniqueName("pv"), labels: { "langop.io/test": "true" } },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Delete",
          storageClassName: storageClass,
          hostPath: { path: `/tmp/${storageClass}` },
          claimRef: { namespace: ns, name: "support-workspace" },
        },
      }),
    )
    const bound = await agentWhere(
      ns,
      "support",
      (a) => condition(a, "WorkspaceReady")?.status === "True",
      "WorkspaceReady=True",
      90_000,
    )
    expect(condition(bound, "WorkspaceReady")).toMatchObject({ status: "True", reason: "Bound" })
  })

  test("bad specs and foreign objects surface the right reason and write nothing", async ({
    namespace: ns,
  }) => {
    const cluster = await readyCluster(ns)
    await dependencies(ns, cluster)
    await applyObject(
      ns,
      withSpec(agentExample("languageagent.yaml", cluster, { workspace: { enabled: false } }), {
        volumes: [{ name: "workspace", emptyDir: {} }],
      }),
    )
    const invalid = await agentWhere(ns, "support", (a) => a.status?.phase === "Failed", "Failed")
    expect(condition(invalid, "Ready")).toMatchObject({ status: "False", reason: "ReservedVolumeName" })
    expect(await get("configmap", ns, "support-agent")).toBeUndefined()
    expect(await get("deployment", ns, "support")).toBeUndefined()

    // A ConfigMap controlled by another object, with the agent's ConfigMap name, is never overwritten.
    const secret = await get("secret", ns, "openai-credentials")
    await applyObject(ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "other-agent",
        ownerReferences: [
          {
            apiVersion: "v1",
            kind: "Secret",
            name: "openai-credentials",
            uid: secret?.metadata.uid,
            controller: true,
          },
        ],
      },
      data: { owner: "user" },
    })
    await applyObject(ns, {
      ...agentExample("languageagent.yaml", cluster, { workspace: { enabled: false } }),
      metadata: { name: "other" },
    })
    const conflicted = await agentWhere(
      ns,
      "other",
      (a) => condition(a, "Ready")?.reason === "NameConflict",
      "NameConflict",
    )
    expect(condition(conflicted, "Ready")?.message).toContain('ConfigMap "other-agent"')
    expect((await get("configmap", ns, "other-agent"))?.data).toEqual({ owner: "user" })
    expect(await get("deployment", ns, "other")).toBeUndefined()
  })
})
