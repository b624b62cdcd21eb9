// Admission benchmark for our kinds: latency (p50/p99) and throughput of one CRD validation (a
// realistic LanguageAgent: models, tools, persona, memory, workspace, egress), and what one webhook
// adds to a request through the API server. Run through `npm run bench` (or
// `npx node test/bench/webhook.ts`); prints one JSON document on the last line.
//
// - `handler`: `/validate/languageagents` alone (review decode, schema decode, every rule, lookups
//   answered from memory like cache hits, response encode), sequential, in this process.
// - `https`: the real admission server (server.ts, the full table of src/webhook/index.ts) on
//   127.0.0.1 in this process, called over HTTPS with a keep-alive agent: validate sequential, then
//   50 in flight; mutate sequential. Client and server share this process and the machine's cores, so
//   with 50 in flight p50 is mostly queueing (≈ 50 / throughput).
// - `apiserver`: server-side dry-run creates of a LanguageTool through a running API server, without
//   and with our validating webhook registered (scoped to the bench's own namespace, removed at the
//   end); the difference is what one webhook adds to `kubectl apply`. Needs a cluster:
//   LANGOP_TEST_KUBECONFIG, or the one `npm run cluster:up` started; otherwise reported as skipped.
// - The Pod injection benchmark is `webhook-pods.ts` (same runner); `podInjection` points at it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Agent, request as httpsRequest } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Context, Duration, Effect, Layer, References } from "effect"
import { mintCa, mintServingCert } from "../../certs/pki.ts"
import { KubeClient, layerFromFile } from "../../src/kube/client.ts"
import type { KubeObject } from "../../src/kube/objects.ts"
import { Builtin, Langop } from "../../src/kube/resources.ts"
import { readState } from "../../src/localcluster/state.ts"
import { webhookConfigurations } from "../../src/webhook/configurations.ts"
import type { HandlerTable } from "../../src/webhook/handlers.ts"
import { webhookTable } from "../../src/webhook/index.ts"
import { layerFromObjects } from "../../src/webhook/lookup.ts"
import { answerReview } from "../../src/webhook/review.ts"
import { guardedHandler, WebhookServer, layer as webhookServerLayer } from "../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../src/webhook/tls.ts"

const SEQUENTIAL = 3_000
const CONCURRENT = 3_000
const IN_FLIGHT = 50
const WARMUP = 500
const API_REQUESTS = 200

const NS = "team-a"
const meta = (kind: string, name: string) => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name, namespace: NS },
})
const world: ReadonlyArray<KubeObject> = [
  { ...meta("LanguageModel", "gpt-4o-mini"), spec: { provider: "openai", modelName: "gpt-4o-mini" } },
  { ...meta("LanguageModel", "claude"), spec: { provider: "anthropic", modelName: "claude-sonnet" } },
  { ...meta("LanguageTool", "web-fetch"), spec: { image: "ghcr.io/langop/mcp-web-fetch:1.0" } },
  { ...meta("LanguageTool", "files"), spec: { image: "fs:1", deploymentMode: "sidecar", port: 9000 } },
  {
    ...meta("LanguagePersona", "support"),
    spec: { displayName: "S", description: "S", systemPrompt: "Be helpful." },
  },
  { apiVersion: "v1", kind: "Secret", metadata: { name: "memory-url", namespace: NS } },
]

const agent = {
  ...meta("LanguageAgent", "support"),
  spec: {
    image: "ghcr.io/langop/agent:1.0",
    executionMode: "interactive",
    modelRefs: [
      { name: "gpt-4o-mini", namespace: NS },
      { name: "claude", namespace: NS, role: "fallback" },
    ],
    toolRefs: [
      { name: "web-fetch", namespace: NS },
      { name: "files", namespace: NS, requireApproval: true },
    ],
    personaRef: { name: "support", namespace: NS },
    instructions: "Help customers with product questions and keep notes in the workspace.",
    maxIterations: 20,
    timeout: "5m",
    workspace: { enabled: true, size: "1Gi" },
    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    memoryStore: { type: "redis", connectionSecretRef: { name: "memory-url" } },
    observability: { logLevel: "info", logConversations: false },
    safetyConfig: { maxToolCallsPerIteration: 5, contentFilters: [{ type: "pii", action: "warn" }] },
    eventTriggers: [],
    egress: [
      { description: "ticketing", to: { cidr: "10.40.0.0/16" }, ports: [{ port: 443 }] },
      { to: { dns: ["api.example.com", "*.status.example.com"] }, ports: [{ port: 443 }] },
      { to: { service: { name: "postgres", namespace: "data" } }, ports: [{ port: 5432 }] },
    ],
  },
}

const body = (i: number, operation = "CREATE") =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      kind: { group: "langop.io", version: "v1alpha1", kind: "LanguageAgent" },
      resource: { group: "langop.io", version: "v1alpha1", resource: "languageagents" },
      name: "support",
      namespace: NS,
      operation,
      userInfo: { username: "admin" },
      object: agent,
      oldObject: null,
      dryRun: false,
    },
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const summary = (latenciesMs: Array<number>, wallMs: number) => {
  latenciesMs.sort((a, b) => a - b)
  return {
    requests: latenciesMs.length,
    perSecond: Math.round(latenciesMs.length / (wallMs / 1000)),
    p50Ms: Number(percentile(latenciesMs, 50).toFixed(3)),
    p99Ms: Number(percentile(latenciesMs, 99).toFixed(3)),
  }
}

const table = webhookTable()
const entry = (path: string) => {
  const found = table.find((e) => e.path === path)
  if (found === undefined) throw new Error(`no ${path} in the handler table`)
  return found
}
const lookupLayer = layerFromObjects(world)

const handlerOnly = Effect.gen(function* () {
  const handle = guardedHandler(entry("/validate/languageagents"))
  for (let i = 0; i < WARMUP; i++) yield* answerReview(body(i), handle)
  const latencies: Array<number> = []
  const bodies = Array.from({ length: SEQUENTIAL }, (_, i) => body(i))
  const t0 = performance.now()
  for (const b of bodies) {
    const start = performance.now()
    const answer = yield* answerReview(b, handle)
    latencies.push(performance.now() - start)
    if (answer._tag !== "Review" || !answer.review.response.allowed)
      return yield* Effect.die(`unexpected answer ${JSON.stringify(answer).slice(0, 300)}`)
  }
  return { ...summary(latencies, performance.now() - t0), reviewBytes: bodies[0]?.length ?? 0 }
}).pipe(Effect.provide(lookupLayer))

const post = (agentPool: Agent, ca: string, port: number, path: string, payload: string) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent: agentPool,
        ca,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString()
          if (res.statusCode !== 200 || !text.includes('"allowed":true'))
            reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 300)}`))
          else resolve(performance.now() - start)
        })
        res.on("error", reject)
      },
    )
    req.on("error", reject)
    req.end(payload)
  })

/** `total` requests with at most `inFlight` open at once. */
const load = async (
  agentPool: Agent,
  ca: string,
  port: number,
  path: string,
  total: number,
  inFlight: number,
) => {
  const latencies: Array<number> = []
  let next = 0
  const t0 = performance.now()
  const lane = async () => {
    while (next < total) {
      const i = next++
      latencies.push(await post(agentPool, ca, port, path, body(i)))
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return summary(latencies, performance.now() - t0)
}

/** The real server for `serverTable` on a free 127.0.0.1 port, with a fresh CA (scoped). */
const serve = <R>(serverTable: HandlerTable<R>, context: Layer.Layer<R>) =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "langop-bench-webhook-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const ca = yield* mintCa({ validFor: Duration.days(1) })
    const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
    writeFileSync(join(dir, "tls.key"), serving.keyPem)
    writeFileSync(join(dir, "tls.crt"), serving.certPem)
    const layer = webhookServerLayer(serverTable, { port: 0 }).pipe(
      Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1), watch: false })),
      Layer.provide(Layer.mergeAll(context, NodeServices.layer)),
    )
    const { port } = Context.get(yield* Layer.build(layer), WebhookServer)
    return { port, ca: ca.certPem }
  })

const overHttps = Effect.gen(function* () {
  const { port, ca } = yield* serve(table, lookupLayer)
  const pool = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  yield* Effect.addFinalizer(() => Effect.sync(() => pool.destroy()))
  return yield* Effect.promise(async () => {
    const validate = "/validate/languageagents"
    await load(pool, ca, port, validate, WARMUP, 1)
    await load(pool, ca, port, validate, WARMUP, IN_FLIGHT)
    const sequential = await load(pool, ca, port, validate, SEQUENTIAL, 1)
    const concurrent = await load(pool, ca, port, validate, CONCURRENT, IN_FLIGHT)
    const mutateSequential = await load(pool, ca, port, "/mutate/languageagents", SEQUENTIAL, 1)
    return {
      validate: { sequential, [`inFlight${IN_FLIGHT}`]: concurrent },
      mutate: { sequential: mutateSequential },
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Through the API server

const clusterKubeconfig = (): string | undefined => {
  const fromEnv = process.env.LANGOP_TEST_KUBECONFIG
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv
  const state = readState()
  return state?.status === "ready" ? state.kubeconfigPath : undefined
}

const apiserver = (kubeconfig: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const namespace = `langop-bench-${process.pid}`
    yield* client.create(Builtin.Namespace, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    })
    yield* Effect.addFinalizer(() => Effect.ignore(client.delete(Builtin.Namespace, { name: namespace })))
    const tool: KubeObject = {
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageTool",
      metadata: { name: "bench", namespace },
      spec: { image: "ghcr.io/langop/mcp-web-fetch:1.0", egress: [{ to: { dns: ["api.example.com"] } }] },
    }
    // The CRDs must be installed; a dry-run create tells (and warms the connection up).
    yield* client.create(Langop.LanguageTool, tool, { dryRun: true })
    const dryRunCreates = (n: number) =>
      Effect.gen(function* () {
        const latencies: Array<number> = []
        const t0 = performance.now()
        for (let i = 0; i < n; i++) {
          const start = performance.now()
          yield* client.create(Langop.LanguageTool, tool, { dryRun: true })
          latencies.push(performance.now() - start)
        }
        return summary(latencies, performance.now() - t0)
      })
    const before = yield* dryRunCreates(API_REQUESTS)

    // One webhook: /validate/languagetools, only for the bench namespace.
    let calls = 0
    const single = table
      .filter((e) => e.path === "/validate/languagetools")
      .map((e) => ({
        ...e,
        handler: (request: Parameters<typeof e.handler>[0]) => {
          calls += 1
          return e.handler(request)
        },
      }))
    const { port, ca } = yield* serve(single, lookupLayer)
    const { validating } = webhookConfigurations(single, { mode: "url", port, caBundle: ca })
    const name = `langop-bench-${process.pid}`
    const scoped = {
      ...validating,
      metadata: { name },
      webhooks: (validating.webhooks ?? []).map((w) => ({
        ...w,
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      })),
    }
    yield* client.create(Builtin.ValidatingWebhookConfiguration, scoped as unknown as KubeObject)
    yield* Effect.addFinalizer(() =>
      Effect.ignore(client.delete(Builtin.ValidatingWebhookConfiguration, { name })),
    )
    // Registration is asynchronous in the API server: wait until requests reach the webhook.
    for (let i = 0; i < 100 && calls === 0; i++) {
      yield* client.create(Langop.LanguageTool, tool, { dryRun: true })
      if (calls === 0) yield* Effect.sleep(Duration.millis(200))
    }
    if (calls === 0) return yield* Effect.die("the API server never called the webhook")
    const startCalls = calls
    const withWebhook = yield* dryRunCreates(API_REQUESTS)
    return {
      kubeconfig,
      request: "server-side dry-run create of a LanguageTool (what kubectl apply sends for a new object)",
      withoutWebhook: before,
      withOneWebhook: { ...withWebhook, webhookCalls: calls - startCalls },
      addedP50Ms: Number((withWebhook.p50Ms - before.p50Ms).toFixed(3)),
      addedP99Ms: Number((withWebhook.p99Ms - before.p99Ms).toFixed(3)),
    }
  }).pipe(Effect.scoped, Effect.provide(layerFromFile(kubeconfig)))

const main = Effect.gen(function* () {
  const handler = yield* handlerOnly
  const https = yield* Effect.scoped(overHttps)
  const kubeconfig = clusterKubeconfig()
  const viaApiserver =
    kubeconfig === undefined
      ? { skipped: "no cluster: set LANGOP_TEST_KUBECONFIG or run `npm run cluster:up`" }
      : yield* apiserver(kubeconfig).pipe(
          Effect.catchCause((cause) =>
            Effect.succeed({ skipped: `cluster not usable: ${String(cause).slice(0, 300)}` }),
          ),
        )
  return {
    scenario:
      "LanguageAgent validation (2 models, 2 tools, persona, memory Secret, workspace, 3 egress rules)",
    handler,
    https,
    apiserver: viaApiserver,
    podInjection: { seeBench: "webhook-pods" },
  }
})

Effect.runPromise(main.pipe(Effect.provideService(References.MinimumLogLevel, "Warn"))).then(
  (r) => console.log(JSON.stringify(r)),
  (e: unknown) => {
    console.error(e)
    process.exitCode = 1
  },
)
