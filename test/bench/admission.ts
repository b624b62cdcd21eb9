// Admission over HTTPS, side by side: the real admission server (the full handler table, lookups
// answered from memory) vs a bare `node:https` server that answers a fixed AdmissionReview, both in this
// process with the same certificate; the client runs in ANOTHER process (lib/admission-client.ts) with a
// keep-alive pool, at 1 and 50 requests in flight, bare then real back to back. Reports req/s, p50/p99
// of both and the ratios (goal: the real server within 1.15× of the bare one).
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Context, Duration, Effect, Layer, References } from "effect"
import { mintCa, mintServingCert } from "../../certs/pki.ts"
import type { KubeObject } from "../../src/kube/objects.ts"
import { webhookTable } from "../../src/webhook/index.ts"
import { layerFromObjects } from "../../src/webhook/lookup.ts"
import { WebhookServer, layer as webhookServerLayer } from "../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../src/webhook/tls.ts"
import { agentDependencies, agents } from "./lib/workload.ts"

const NS = "bench"
const PATH = "/validate/languageagents"
const RUNS = [
  { inFlight: 1, total: 2_000, warmup: 300 },
  { inFlight: 50, total: 5_000, warmup: 1_000 },
] as const

const review = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "00000000-0000-4000-8000-000000000001",
    kind: { group: "langop.io", version: "v1alpha1", kind: "LanguageAgent" },
    resource: { group: "langop.io", version: "v1alpha1", resource: "languageagents" },
    name: "agent-0",
    namespace: NS,
    operation: "CREATE",
    userInfo: { username: "admin" },
    object: agents(NS, 1)[0],
    oldObject: null,
    dryRun: false,
  },
})
const fixedAnswer = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  response: { uid: "00000000-0000-4000-8000-000000000001", allowed: true },
})

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null)

const main = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "langop-bench-admission-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const ca = yield* mintCa({ validFor: Duration.days(1) })
  const serving = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
  writeFileSync(join(dir, "tls.key"), serving.keyPem)
  writeFileSync(join(dir, "tls.crt"), serving.certPem)
  writeFileSync(join(dir, "ca.crt"), ca.certPem)
  writeFileSync(join(dir, "review.json"), review)

  const real = webhookServerLayer(webhookTable(), { port: 0 }).pipe(
    Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1), watch: false })),
    Layer.provide(
      Layer.mergeAll(
        layerFromObjects(agentDependencies(NS) as ReadonlyArray<KubeObject>),
        NodeServices.layer,
      ),
    ),
  )
  const realPort = Context.get(yield* Layer.build(real), WebhookServer).port
  const bare = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    req.resume()
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(fixedAnswer)
    })
  })
  yield* Effect.promise(() => new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve)))
  yield* Effect.addFinalizer(() => Effect.sync(() => bare.close()))
  const address = bare.address()
  const barePort = typeof address === "object" && address !== null ? address.port : 0

  // Spawned asynchronously: this process must keep serving while the client runs.
  const client = (port: number, r: (typeof RUNS)[number]) =>
    Effect.promise(
      () =>
        new Promise<{ perSecond: number; p50Ms: number; p99Ms: number; requests: number }>(
          (resolve, reject) => {
            execFile(
              process.execPath,
              [
                join(import.meta.dirname, "lib", "admission-client.ts"),
                String(port),
                PATH,
                join(dir, "ca.crt"),
                join(dir, "review.json"),
                String(r.total),
                String(r.inFlight),
                String(r.warmup),
              ],
              { maxBuffer: 1 << 20 },
              (err, stdout) =>
                err !== null ? reject(err) : resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "")),
            )
          },
        ),
    )
  const out: Record<string, unknown> = {}
  for (const r of RUNS) {
    const b = yield* client(barePort, r)
    const l = yield* client(realPort, r)
    const throughput = ratio(l.perSecond, b.perSecond)
    out[`inFlight${r.inFlight}`] = {
      bare: b,
      langop: l,
      throughputRatio: throughput,
      p50Ratio: ratio(l.p50Ms, b.p50Ms),
      p99Ratio: ratio(l.p99Ms, b.p99Ms),
      goal: "langop within 1.15× of the bare server (throughput ≥ 0.87×, p99 ≤ 1.15×)",
      meetsGoal: (throughput ?? 0) >= 1 / 1.15 && (ratio(l.p99Ms, b.p99Ms) ?? Infinity) <= 1.15,
    }
  }
  return {
    scenario:
      "validate one LanguageAgent (the convergence bench's agent) over HTTPS; client in another process, keep-alive",
    ...out,
  }
})

Effect.runPromise(main.pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Warn"))).then(
  (r) => console.log(JSON.stringify(r)),
  (e: unknown) => {
    console.error(e)
    process.exitCode = 1
  },
)
