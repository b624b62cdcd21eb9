// The LanguageModel controller against the real local control plane (kwok runs the pods): the gpt-4o-mini
// example with its Secret becomes ConfigMap/Deployment/Service/NetworkPolicy with a Running restricted pod
// and a Ready status; a spec change rolls the Deployment; deleted children come back; a missing Secret is
// waited for (woken by the Secret watch, not a timer); the local example chains to gpt-4o-mini as fallback
// (woken by the model watch); a reconcile or resync with nothing changed writes nothing; deletion cleans up.
// Names resolve through a DNS server on 127.0.0.1 (api.openai.com → a documentation address).
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit, Result, Scope } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse, stringify } from "yaml"
import {
  languageModelController,
  modelControllerOptionsFromSettings,
} from "../../../src/controllers/languagemodel/index.ts"
import { Dns } from "../../../src/network/dns.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { dnsTestServer } from "../../unit/network/support/dns-server.ts"
import { eventually } from "../runtime/support.ts"
import { kubectl, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const TIMEOUT = 90_000
const OPENAI_IP = "203.0.113.20"
const SECRET_VALUE = "sk-example-dummy-key-replace-me"

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason: string
  readonly message: string
  readonly observedGeneration?: number
}
// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any
interface Obj {
  readonly metadata: { name: string; uid: string; generation?: number; [k: string]: Loose }
  readonly spec?: Loose
  readonly status?: Loose
  readonly data?: Loose
}

type Json = Record<string, Loose>
const example = (file: string): Json => parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json
const withSpec = (obj: Json, spec: Json): Json => ({ ...obj, spec: { ...obj.spec, ...spec } })

const namespaces = new Set<string>()

const get = async (what: string, namespace: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", what, "-n", namespace, "-o", "json"])
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

const applyIn = (namespace: string, obj: Json) => {
  namespaces.add(namespace)
  return must(["apply", "-n", namespace, "-f", "-"], stringify(obj))
}

const cond = (o: Obj | undefined, type: string): Condition | undefined =>
  (o?.status?.conditions as ReadonlyArray<Condition> | undefined)?.find((c) => c.type === type)

let operator: RunningOperator
let dnsScope: Scope.Closeable

beforeAll(async () => {
  await installCrds()
  dnsScope = Effect.runSync(Scope.make())
  const dns = await Effect.runPromise(
    Scope.provide(dnsScope)(dnsTestServer({ "api.openai.com": { a: [OPENAI_IP] } })),
  )
  // A long dependency wait: a model waiting for its Secret must be woken by the Secret watch.
  const settings = await Effect.runPromise(settingsFrom({ LANGOP_DEPENDENCY_WAIT_REQUEUE: "10m" }))
  const options = modelControllerOptionsFromSettings(settings)
  if (Result.isFailure(options)) throw new Error(options.failure)
  operator = await startOperator([languageModelController(options.success)], {
    resyncPeriodMs: 4_000,
    dns: Dns.layer({ servers: [dns.server], timeoutMs: 500, tries: 2 }),
  })
})

afterAll(async () => {
  // Delete models while the operator still runs, so their finalizers are removed.
  for (const ns of namespaces) await kubectl(["delete", "languagemodels", "--all", "-n", ns, "--wait=false"])
  await eventually("models deleted", async () => {
    for (const ns of namespaces) {
      const r = await kubectl(["get", "languagemodels", "-n", ns, "-o", "name"])
      if (r.stdout.trim() !== "") return false
    }
    return true
  })
  await operator?.stop()
  await Effect.runPromise(Scope.close(dnsScope, Exit.void))
}, TIMEOUT)

/** Pods in `namespace` must meet the restricted Pod Security Standard (enforced by admission). */
const restricted = (namespace: string) =>
  must(["label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted", "--overwrite"])

const gptExample = async (namespace: string, spec: Json = {}) => {
  await applyIn(namespace, example("secret-openai-credentials.yaml"))
  await applyIn(namespace, withSpec(example("languagemodel.yaml"), spec))
}

const modelWhere = (namespace: string, name: string, what: string, check: (m: Obj) => boolean) =>
  eventually(
    what,
    async () => {
      const m = await get(`languagemodel/${name}`, namespace)
      return m !== undefined && check(m) ? m : undefined
    },
    TIMEOUT,
  )

const settledReady = (namespace: string, name = "gpt-4o-mini") =>
  modelWhere(
    namespace,
    name,
    `${name} Ready for its generation`,
    (m) => m.status?.phase === "Ready" && m.status.observedGeneration === m.metadata.generation,
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

const podsOf = async (namespace: string, name: string) => {
  const out = await must([
    "get",
    "pods",
    "-n",
    namespace,
    "-l",
    `app.kubernetes.io/name=${name},langop.io/kind=LanguageModel`,
    "-o",
    "json",
  ])
  return (JSON.parse(out) as { items: ReadonlyArray<Obj> }).items.filter(
    (p) => p.metadata.deletionTimestamp === undefined,
  )
}

describe("LanguageModel", () => {
  test("the gpt-4o-mini example: ConfigMap, Deployment, Service, NetworkPolicy, restricted pod Running, Ready", async ({
    namespace,
  }) => {
    await restricted(namespace)
    await gptExample(namespace)
    const m = await settledReady(namespace)

    expect(m.metadata.finalizers).toContain("langop.io/finalizer")
    expect(m.status).toMatchObject({ phase: "Ready", healthy: true, reason: "ReconcileSuccess" })
    expect(m.status.message).toBe("Model proxy is ready")
    for (const [type, reason] of [
      ["Ready", "ReconcileSuccess"],
      ["Reconciled", "ReconcileSuccess"],
      ["ProxyConfigured", "Rendered"],
      ["ProxyAvailable", "Available"],
      ["FeaturesSupported", "AllSupported"],
      ["NetworkPolicyReady", "Applied"],
      ["EgressResolved", "Resolved"],
    ] as const)
      expect(cond(m, type), type).toMatchObject({ status: "True", reason, observedGeneration: 1 })

    const cm = await get("configmap/gpt-4o-mini-model", namespace)
    expect(Object.keys(cm?.data ?? {}).sort()).toEqual([
      "apiKeySecretRef.json",
      "config.yaml",
      "model.json",
      "modelName",
      "provider",
      "rateLimits.json",
      "timeout",
    ])
    const config = parse(cm?.data["config.yaml"])
    expect(config.model_list[0]).toMatchObject({
      model_name: "gpt-4o-mini",
      litellm_params: { model: "openai/gpt-4o-mini", api_key: "os.environ/LANGOP_MODEL_API_KEY" },
    })
    expect(JSON.stringify(cm)).not.toContain(SECRET_VALUE)

    const deployment = await get("deployment/gpt-4o-mini", namespace)
    expect(deployment?.spec.replicas).toBe(1)
    const template = deployment?.spec.template
    expect(template.metadata.annotations["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)
    const container = template.spec.containers[0]
    expect(container).toMatchObject({
      name: "proxy",
      image: "ghcr.io/berriai/litellm:v1.83.10-stable",
      args: ["--config", "/etc/langop/config.yaml", "--port", "4000"],
      ports: [{ name: "http", containerPort: 4000, protocol: "TCP" }],
    })
    expect(container.env).toContainEqual({
      name: "LANGOP_MODEL_API_KEY",
      valueFrom: { secretKeyRef: { name: "openai-credentials", key: "api-key" } },
    })
    expect(JSON.stringify(deployment)).not.toContain(SECRET_VALUE)
    const pods = await eventually(
      "proxy pod Running",
      async () => {
        const ps = await podsOf(namespace, "gpt-4o-mini")
        return ps.length === 1 && ps[0]?.status.phase === "Running" ? ps : undefined
      },
      TIMEOUT,
    )
    expect(pods[0]?.spec.securityContext).toMatchObject({ runAsNonRoot: true })

    const service = await get("service/gpt-4o-mini", namespace)
    expect(service?.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8000, targetPort: 4000, protocol: "TCP" }],
    })
    const np = await get("networkpolicy/gpt-4o-mini", namespace)
    expect(np?.spec.policyTypes).toEqual(["Egress"])
    expect(np?.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: `${OPENAI_IP}/32` } }],
      ports: [{ port: 443, protocol: "TCP" }],
    })
    for (const child of [cm, deployment, service, np])
      expect(child?.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: "LanguageModel",
          name: "gpt-4o-mini",
          uid: m.metadata.uid,
          controller: true,
        }),
      ])
    expect(await must(["get", "lmodel", "-n", namespace, "--no-headers"])).toMatch(
      /gpt-4o-mini\s+True\s+openai\s+gpt-4o-mini\s+Ready\s+true/u,
    )
  })

  test("a spec change rolls the Deployment (config hash) and the status follows the generation", async ({
    namespace,
  }) => {
    await gptExample(namespace)
    await settledReady(namespace)
    const before = await get("deployment/gpt-4o-mini", namespace)
    await gptExample(namespace, { configuration: { temperature: 0.9, maxTokens: 1024 } })
    const m = await modelWhere(namespace, "gpt-4o-mini", "generation 2 Ready", (o) => {
      return o.status?.phase === "Ready" && o.status.observedGeneration === 2
    })
    expect(cond(m, "Ready")?.observedGeneration).toBe(2)
    const after = await get("deployment/gpt-4o-mini", namespace)
    expect(after?.spec.template.metadata.annotations["langop.io/config-hash"]).not.toBe(
      before?.spec.template.metadata.annotations["langop.io/config-hash"],
    )
    const config = parse((await get("configmap/gpt-4o-mini-model", namespace))?.data["config.yaml"])
    expect(config.model_list[0].litellm_params).toMatchObject({ temperature: 0.9, max_tokens: 1024 })
  })

  test("deleted children are recreated", async ({ namespace }) => {
    await gptExample(namespace)
    await settledReady(namespace)
    for (const what of [
      "service/gpt-4o-mini",
      "configmap/gpt-4o-mini-model",
      "networkpolicy/gpt-4o-mini",
      "deployment/gpt-4o-mini",
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
    await settledReady(namespace)
  })

  test("a missing Secret or key is waited for (SecretNotFound, SecretKeyNotFound); the Secret watch wakes it", async ({
    namespace,
  }) => {
    await applyIn(namespace, example("languagemodel.yaml"))
    const waiting = await modelWhere(
      namespace,
      "gpt-4o-mini",
      "SecretNotFound",
      (o) => o.status?.reason === "SecretNotFound",
    )
    expect(waiting.status).toMatchObject({ phase: "Error", healthy: false })
    expect(cond(waiting, "Ready")).toMatchObject({ status: "False", reason: "SecretNotFound" })
    expect(cond(waiting, "Ready")?.message).toContain("openai-credentials")
    expect(await get("deployment/gpt-4o-mini", namespace)).toBeUndefined()
    expect(await get("configmap/gpt-4o-mini-model", namespace)).toBeUndefined()

    const wrongKey = example("secret-openai-credentials.yaml")
    await applyIn(namespace, { ...wrongKey, stringData: { token: "x" } })
    await modelWhere(
      namespace,
      "gpt-4o-mini",
      "SecretKeyNotFound",
      (o) => o.status?.reason === "SecretKeyNotFound",
    )

    // The dependency wait is 10 minutes in this file: only the Secret watch can make it Ready in time.
    await applyIn(namespace, example("secret-openai-credentials.yaml"))
    await settledReady(namespace)
  })

  test("the local example chains to gpt-4o-mini; a missing fallback degrades until it appears", async ({
    namespace,
  }) => {
    await applyIn(namespace, example("languagemodel-local.yaml"))
    const degraded = await modelWhere(
      namespace,
      "llama-local",
      "Degraded, fallback missing",
      (o) => o.status?.phase === "Degraded",
    )
    expect(cond(degraded, "FeaturesSupported")).toMatchObject({ status: "False", reason: "FallbackNotFound" })
    expect(degraded.status.healthy).toBe(true)

    await gptExample(namespace)
    const m = await settledReady(namespace, "llama-local")
    expect(cond(m, "FeaturesSupported")?.reason).toBe("AllSupported")
    const config = parse((await get("configmap/llama-local-model", namespace))?.data["config.yaml"])
    expect(config.model_list).toContainEqual(
      expect.objectContaining({
        model_name: "fallback/gpt-4o-mini",
        litellm_params: {
          model: "openai/gpt-4o-mini",
          api_base: `http://gpt-4o-mini.${namespace}.svc.cluster.local:8000/v1`,
          api_key: "sk-local-dummy-key",
        },
      }),
    )
    expect(config.router_settings.fallbacks).toEqual([{ "llama3.2:3b": ["fallback/gpt-4o-mini"] }])
    const deployment = await get("deployment/llama-local", namespace)
    const env = deployment?.spec.template.spec.containers[0].env as ReadonlyArray<{ name: string }>
    expect(env.map((e) => e.name)).not.toContain("LANGOP_MODEL_API_KEY")
    expect(env).toContainEqual({ name: "LITELLM_DROP_PARAMS", value: "true" })
    // In-cluster endpoint → namespace + Service peer (the `ollama` Service does not exist in `demo` here).
    expect(cond(m, "NetworkPolicyReady")?.status).toBe("True")
  })

  test("a ConfigMap controlled by someone else is left untouched (NameConflict)", async ({ namespace }) => {
    await applyIn(namespace, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner" }, data: {} })
    const owner = await get("configmap/owner", namespace)
    await applyIn(namespace, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "gpt-4o-mini-model",
        ownerReferences: [
          { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner?.metadata.uid, controller: true },
        ],
      },
      data: { mine: "kept" },
    })
    await gptExample(namespace)
    const m = await modelWhere(
      namespace,
      "gpt-4o-mini",
      "NameConflict",
      (o) => o.status?.reason === "NameConflict",
    )
    expect(m.status.phase).toBe("Error")
    expect(cond(m, "Ready")?.message).toContain("ConfigMap owner")
    await settled(writesIn(namespace))
    expect((await get("configmap/gpt-4o-mini-model", namespace))?.data).toEqual({ mine: "kept" })
    expect(
      writesIn(namespace)().filter((w) => w.kind === "ConfigMap" && w.name === "gpt-4o-mini-model"),
    ).toEqual([])
  })

  test("a reconcile or a periodic resync with nothing changed makes no write", async ({ namespace }) => {
    await gptExample(namespace)
    await settledReady(namespace)
    const writes = writesIn(namespace)
    await settled(writes)
    const before = writes().length
    const reconciles = await operator.reconciles("languagemodel")
    await must(["annotate", "languagemodel", "gpt-4o-mini", "-n", namespace, `touched=${Date.now()}`])
    await eventually(
      "reconciles after the touch and a resync",
      async () => (await operator.reconciles("languagemodel")) >= reconciles + 3,
      TIMEOUT,
    )
    await new Promise((r) => setTimeout(r, 5000))
    expect(writes().slice(before)).toEqual([])
  })

  test("deleting the model deletes its ConfigMap, removes the finalizer; the rest is garbage-collected", async ({
    namespace,
  }) => {
    await gptExample(namespace)
    await settledReady(namespace)
    await must(["delete", "languagemodel/gpt-4o-mini", "-n", namespace, "--wait=false"])
    await eventually(
      "model gone",
      async () => (await get("languagemodel/gpt-4o-mini", namespace)) === undefined,
      TIMEOUT,
    )
    expect(
      writesIn(namespace)().filter((w) => w.verb === "delete" && w.kind === "ConfigMap" && !w.dryRun),
    ).toHaveLength(1)
    for (const what of [
      "configmap/gpt-4o-mini-model",
      "deployment/gpt-4o-mini",
      "service/gpt-4o-mini",
      "networkpolicy/gpt-4o-mini",
    ])
      await eventually(`${what} gone`, async () => (await get(what, namespace)) === undefined, TIMEOUT)
    // The Secret is the user's: untouched.
    expect(await get("secret/openai-credentials", namespace)).toBeDefined()
  })
})
