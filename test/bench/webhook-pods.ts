// Pod webhook benchmark: latency (p50/p99) and throughput of one sidecar injection (an agent Pod
// with two sidecar tools, one with a volume and a pull secret; ~1.6 kB review, ~2.6 kB patch).
// Run through `npm run bench` (or `npx node test/bench/webhook-pods.ts`); prints one JSON document.
//
// - `handler`: the `/mutate/pods` handler alone (review decode, lookups, injection, patch, encode),
//   sequential, in this process.
// - `https`: the real admission server (server.ts, the full handler table) on 127.0.0.1 in this
//   process, called over HTTPS with a keep-alive agent; sequential, then 50 requests in flight.
//   Client and server share this process and the machine's cores, so with 50 in flight p50 is mostly
//   queueing (≈ 50 / throughput).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Agent, request as httpsRequest } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer, References, Schema } from "effect"
import { mintCa, mintServingCert } from "../../certs/pki.ts"
import { LanguageTool } from "../../src/api/languagetool.ts"
import { type HandlerSet, handlerTable, type KindHandlers, langopKinds } from "../../src/webhook/handlers.ts"
import { mutatePod, type ToolLookup } from "../../src/webhook/pods.ts"
import { type AdmissionHandler, allow, answerReview } from "../../src/webhook/review.ts"
import { WebhookServer, layer as webhookServerLayer } from "../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../src/webhook/tls.ts"

const SEQUENTIAL = 3_000
const CONCURRENT = 3_000
const IN_FLIGHT = 50
const WARMUP = 500

const tools = [
  {
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageTool",
    metadata: { name: "fs", namespace: "team-a" },
    spec: {
      image: "ghcr.io/acme/fs-mcp:1.2",
      deploymentMode: "sidecar",
      port: 3000,
      env: [{ name: "ROOT", value: "/workspace" }],
      resources: { limits: { memory: "128Mi" }, requests: { cpu: "100m" } },
      securityContext: { runAsUser: 1000 },
    },
  },
  {
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageTool",
    metadata: { name: "search", namespace: "team-a" },
    spec: {
      image: "ghcr.io/acme/search:2",
      deploymentMode: "sidecar",
      port: 8081,
      volumes: [{ name: "cache", emptyDir: {} }],
      volumeMounts: [{ name: "cache", mountPath: "/cache" }],
      imagePullSecrets: [{ name: "regcred" }],
      readinessProbe: { httpGet: { path: "/healthz", port: 8081 } },
    },
  },
]

// Decoded once, as the informer cache holds them; looked up by key like a cache hit.
const decoded = new Map(
  tools.map((t) => [`${t.metadata.namespace}/${t.metadata.name}`, Schema.decodeUnknownSync(LanguageTool)(t)]),
)
const lookup: ToolLookup = (namespace, name) => Effect.sync(() => decoded.get(`${namespace}/${name}`))

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    generateName: "agent-7d9f6c-",
    namespace: "team-a",
    labels: {
      "app.kubernetes.io/name": "agent",
      "app.kubernetes.io/managed-by": "language-operator",
      "app.kubernetes.io/part-of": "langop",
      "langop.io/kind": "LanguageAgent",
      "pod-template-hash": "7d9f6c",
    },
    annotations: {
      "langop.io/config-hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "langop.io/sidecar-tools": "team-a/fs,team-a/search",
      "langop.io/sidecar-hash": "fee16c0bc30c7ee6cdc3461b9ad919d81d0a830c356fb0dc12cc094ccabbe998",
    },
    ownerReferences: [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "agent-7d9f6c", uid: "u-1", controller: true },
    ],
  },
  spec: {
    containers: [
      {
        name: "agent",
        image: "ghcr.io/acme/agent:1",
        env: [
          { name: "AGENT_NAME", value: "agent" },
          { name: "MCP_SERVERS", value: "http://localhost:3000,http://localhost:8081" },
        ],
        ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
        volumeMounts: [
          { name: "workspace", mountPath: "/workspace" },
          { name: "agent-config", mountPath: "/etc/langop/agent", readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: "workspace", persistentVolumeClaim: { claimName: "agent-workspace" } },
      { name: "agent-config", configMap: { name: "agent-agent" } },
    ],
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  },
}

const body = (i: number) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "team-a",
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: pod,
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

const handlerOnly = Effect.gen(function* () {
  const handle = mutatePod(lookup)
  const bodies = Array.from({ length: SEQUENTIAL }, (_, i) => body(i))
  let patchBytes = 0
  for (let i = 0; i < WARMUP; i++) yield* answerReview(body(i), handle)
  const latencies: Array<number> = []
  const t0 = performance.now()
  for (const b of bodies) {
    const start = performance.now()
    const answer = yield* answerReview(b, handle)
    latencies.push(performance.now() - start)
    if (answer._tag !== "Review" || answer.review.response.patch === undefined)
      return yield* Effect.die("no patch")
    patchBytes = Buffer.from(answer.review.response.patch, "base64").length
  }
  return { ...summary(latencies, performance.now() - t0), reviewBytes: bodies[0]?.length ?? 0, patchBytes }
})

const post = (agent: Agent, ca: string, port: number, payload: string) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path: "/mutate/pods",
        method: "POST",
        agent,
        ca,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString()
          if (res.statusCode !== 200 || !text.includes('"patch"'))
            reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 200)}`))
          else resolve(performance.now() - start)
        })
        res.on("error", reject)
      },
    )
    req.on("error", reject)
    req.end(payload)
  })

/** `total` requests with at most `inFlight` open at once. */
const load = async (agent: Agent, ca: string, port: number, total: number, inFlight: number) => {
  const latencies: Array<number> = []
  let next = 0
  const t0 = performance.now()
  const lane = async () => {
    while (next < total) {
      const i = next++
      latencies.push(await post(agent, ca, port, body(i)))
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return summary(latencies, performance.now() - t0)
}

const allowAll: AdmissionHandler = (r) => Effect.succeed(allow(r))
const stub: KindHandlers = { mutate: allowAll, validate: allowAll }
const handlers: HandlerSet = {
  ...(Object.fromEntries(langopKinds.map((kind) => [kind, stub])) as Omit<HandlerSet, "Pod">),
  Pod: { mutate: mutatePod(lookup) },
}

const overHttps = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "langop-bench-pods-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const ca = yield* mintCa({ validFor: Duration.days(1) })
  const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: "1 day" })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "tls.key"), serving.keyPem)
  writeFileSync(join(dir, "tls.crt"), serving.certPem)
  const serverLayer = webhookServerLayer(handlerTable(handlers), { port: 0 }).pipe(
    Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
    Layer.provide(NodeServices.layer),
  )
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
  return yield* Effect.gen(function* () {
    const { port } = yield* WebhookServer
    return yield* Effect.promise(async () => {
      await load(agent, ca.certPem, port, WARMUP, 1)
      await load(agent, ca.certPem, port, WARMUP, IN_FLIGHT)
      const sequential = await load(agent, ca.certPem, port, SEQUENTIAL, 1)
      const concurrent = await load(agent, ca.certPem, port, CONCURRENT, IN_FLIGHT)
      return { sequential, [`inFlight${IN_FLIGHT}`]: concurrent }
    })
  }).pipe(Effect.provide(serverLayer))
})

const main = Effect.gen(function* () {
  const handler = yield* handlerOnly
  const https = yield* Effect.scoped(overHttps)
  return { scenario: "agent Pod, 2 sidecar tools", handler, https }
})

Effect.runPromise(main.pipe(Effect.provideService(References.MinimumLogLevel, "Warn"))).then(
  (r) => console.log(JSON.stringify(r)),
  (e: unknown) => {
    console.error(e)
    process.exitCode = 1
  },
)
