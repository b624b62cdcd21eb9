// What a platform team's Prometheus and trace backend see from the operator, on the real control
// plane: a manager with a ConfigMap controller (reconciles that succeed, fail, die and block, each
// reading and patching through the API server) and the admission server registered with the API
// server, both under one runtime (one registry, served on /metrics) and exporting spans over OTLP/HTTP
// to a real OpenTelemetry Collector (test/cluster/otelcol), which re-exports what it accepted as
// OTLP JSON to a sink in this file.
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer, type Server } from "node:http"
import { createServer as createNetServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { type Context, Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { defineController, TerminalError } from "../../../src/runtime/controller.ts"
import { type RuntimeServices, runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { tracingLayer } from "../../../src/runtime/tracing.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import { layerLive } from "../../../src/webhook/lookup.ts"
import {
  createNamespace,
  deleteNamespace,
  kubeconfigPath,
  kubectl,
  makeKubeConfig,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"
import { eventually } from "./support.ts"

const CM = Builtin.ConfigMap
const REPO = join(import.meta.dirname, "..", "..", "..")
const TIMEOUT = 90_000

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createNetServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })

interface OtlpValue {
  readonly stringValue?: string
  readonly boolValue?: boolean
  readonly intValue?: string
}
interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: OtlpValue }>
  readonly status?: { readonly code?: number }
}
interface Span {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly kind: number
  readonly status: number
  readonly attrs: Readonly<Record<string, unknown>>
  readonly resource: Readonly<Record<string, unknown>>
}
const attrsOf = (kvs: ReadonlyArray<{ readonly key: string; readonly value: OtlpValue }> | undefined) =>
  Object.fromEntries(
    (kvs ?? []).map((kv) => [
      kv.key,
      kv.value.stringValue ??
        kv.value.boolValue ??
        (kv.value.intValue === undefined ? undefined : Number(kv.value.intValue)),
    ]),
  )

/** Every span the collector forwarded so far. */
const spans: Array<Span> = []
const collectSpans = (body: string) => {
  const data = JSON.parse(body) as {
    resourceSpans?: ReadonlyArray<{
      resource?: { attributes?: ReadonlyArray<{ key: string; value: OtlpValue }> }
      scopeSpans?: ReadonlyArray<{ spans?: ReadonlyArray<OtlpSpan> }>
    }>
  }
  for (const rs of data.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        spans.push({
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          kind: s.kind,
          status: s.status?.code ?? 0,
          attrs: attrsOf(s.attributes),
          resource: attrsOf(rs.resource?.attributes),
        })
}

let namespace = ""
let dir = ""
let sink: Server | undefined
let collector: ChildProcess | undefined
let collectorLog = ""
let scope: Scope.Closeable | undefined
let manager: Fiber.Fiber<never> | undefined
let webhook: WebhookHandle | undefined
let metricsPort = 0
const release = Effect.runSync(Deferred.make<void>())

/** Reads the object, then behaves as its `data.mode` says; marks plain ones with an annotation. */
const controller = (ns: string) =>
  defineController({
    name: "observed",
    // Only this test's objects (every namespace also holds the cluster's kube-root-ca.crt).
    for: { resource: CM, namespace: ns, labelSelector: "langop.io/observed-test=true" },
    reconcile: (req) =>
      Effect.gen(function* () {
        const client = yield* KubeClient
        const obj = yield* client.get(CM, req)
        const mode = (obj.data as Record<string, string> | undefined)?.mode
        if (mode === "fail") return yield* new TerminalError({ message: "this object asks to fail" })
        if (mode === "panic") return yield* Effect.die(new Error("this object asks for a defect"))
        if (mode === "block") yield* Deferred.await(release)
        yield* client.patch(CM, req, {
          type: "merge",
          body: { metadata: { annotations: { "langop.io/observed": "yes" } } },
        })
      }),
  })

const scrape = async (): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
  return res.text()
}
/** Value of the sample `series` (exact name and labels); undefined when the series is absent. */
const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const startCollector = async (): Promise<string> => {
  const { stdout } = await promisify(execFile)(
    "bash",
    [join(REPO, "test", "cluster", "otelcol", "build.sh")],
    {
      maxBuffer: 1 << 20,
    },
  )
  const bin = stdout.trim()
  sink = createHttpServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      collectSpans(Buffer.concat(chunks).toString("utf8"))
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  const s = sink
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))
  const sinkAddress = s.address()
  const sinkPort = typeof sinkAddress === "object" && sinkAddress !== null ? sinkAddress.port : 0
  const otlpPort = await freePort()
  const config = join(dir, "otelcol.yaml")
  writeFileSync(
    config,
    [
      "receivers:",
      "  otlp:",
      "    protocols:",
      "      http:",
      `        endpoint: 127.0.0.1:${otlpPort}`,
      "exporters:",
      "  otlp_http:",
      `    endpoint: http://127.0.0.1:${sinkPort}`,
      "    encoding: json",
      "    compression: none",
      "service:",
      "  telemetry:",
      "    metrics:",
      "      level: none",
      "  pipelines:",
      "    traces:",
      "      receivers: [otlp]",
      "      exporters: [otlp_http]",
      "",
    ].join("\n"),
  )
  const child = spawn(bin, ["--config", config], { stdio: ["ignore", "ignore", "pipe"] })
  collector = child
  child.stderr?.on("data", (c: Buffer) => {
    collectorLog = (collectorLog + c.toString("utf8")).slice(-4000)
  })
  const url = `http://127.0.0.1:${otlpPort}/v1/traces`
  await eventually(
    `the collector to accept OTLP on ${url} (its log: ${collectorLog})`,
    async () =>
      (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).ok,
  )
  return url
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "langop-observability-"))
  await installCrds()
  namespace = await createNamespace(makeKubeConfig(), "observability")
  const url = await startCollector()
  const layer = runtimeLayer({ instance: "observability-test" }).pipe(
    Layer.provideMerge(layerFromFile(kubeconfigPath())),
    Layer.provideMerge(
      tracingLayer({
        url,
        protocol: "http/protobuf",
        headers: {},
        serviceName: "langop-observability-test",
        resourceAttributes: { "deployment.environment": "test" },
        sampler: "parentbased_always_on",
        ratio: 1,
        exportInterval: "200 millis",
      }),
    ),
  )
  scope = Effect.runSync(Scope.make())
  const context: Context.Context<RuntimeServices | KubeClient> = await Effect.runPromise(
    Layer.buildWithScope(layer, scope),
  )
  metricsPort = await freePort()
  manager = Effect.runFork(
    runManager([controller(namespace)], {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 5_000,
      concurrency: () => 2,
      metricsBind: { host: "127.0.0.1", port: metricsPort },
    }).pipe(Effect.provideContext(context)),
  )
  webhook = await startWebhook({
    table: webhookTable(),
    // The runtime's context gives the admission server the same registry and tracer.
    context: Layer.mergeAll(
      layerLive.pipe(Layer.provide(layerFromFile(kubeconfigPath()))),
      Layer.succeedContext(context),
    ),
  })
}, 600_000)

afterAll(async () => {
  Effect.runSync(Deferred.succeed(release, undefined))
  if (webhook !== undefined) await webhook.close()
  if (manager !== undefined) await Effect.runPromise(Fiber.interrupt(manager))
  // Closing the runtime's scope flushes the spans still buffered.
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  if (collector?.pid !== undefined) process.kill(collector.pid, "SIGTERM")
  await new Promise<void>((resolve) => (sink === undefined ? resolve() : sink.close(() => resolve())))
  if (namespace !== "") await deleteNamespace(makeKubeConfig(), namespace)
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

const apiHost = () => new URL(makeKubeConfig().getCurrentCluster()?.server ?? "").host

describe("observability on the control plane", () => {
  test(
    "a registered controller's series exist at zero before its first object",
    async () => {
      const text = await eventually("the metrics endpoint", async () => {
        const t = await scrape()
        return t.includes('controller="observed"') ? t : undefined
      })
      for (const result of ["success", "error", "requeue", "requeue_after"])
        expect(
          value(text, `controller_runtime_reconcile_total{controller="observed",result="${result}"}`),
        ).toBe(0)
      expect(value(text, 'controller_runtime_reconcile_time_seconds_count{controller="observed"}')).toBe(0)
      expect(value(text, 'controller_runtime_reconcile_panics_total{controller="observed"}')).toBe(0)
      expect(value(text, 'workqueue_retries_total{name="observed",controller="observed"}')).toBe(0)
      expect(value(text, 'controller_runtime_max_concurrent_reconciles{controller="observed"}')).toBe(2)
    },
    TIMEOUT,
  )

  test(
    "reconciles, API calls and admission requests move the controller-runtime and client-go series",
    async () => {
      for (const [name, mode] of [
        ["plain", ""],
        ["failing", "fail"],
        ["dying", "panic"],
        ["blocked", "block"],
      ] as const) {
        const r = await kubectl(["create", "-f", "-"], {
          input: JSON.stringify({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace, labels: { "langop.io/observed-test": "true" } },
            data: mode === "" ? {} : { mode },
          }),
        })
        expect(r.exitCode, r.stderr).toBe(0)
      }
      const l = '{name="observed",controller="observed"}'
      // While one reconcile is held, the in-flight series show it.
      const during = await eventually("a reconcile in flight for a while", async () => {
        const t = await scrape()
        return (value(t, `workqueue_longest_running_processor_seconds${l}`) ?? 0) > 0.5 ? t : undefined
      })
      expect(
        value(during, 'controller_runtime_active_workers{controller="observed"}'),
      ).toBeGreaterThanOrEqual(1)
      expect(value(during, `workqueue_unfinished_work_seconds${l}`)).toBeGreaterThan(0.5)
      Effect.runSync(Deferred.succeed(release, undefined))

      const host = apiHost()
      const text = await eventually("every outcome counted", async () => {
        const t = await scrape()
        const ok =
          (value(t, 'controller_runtime_reconcile_total{controller="observed",result="success"}') ?? 0) >=
            2 &&
          (value(t, 'controller_runtime_reconcile_panics_total{controller="observed"}') ?? 0) >= 1 &&
          (value(t, 'controller_runtime_terminal_reconcile_errors_total{controller="observed"}') ?? 0) >= 1
        return ok ? t : undefined
      })
      expect(
        value(text, 'controller_runtime_reconcile_total{controller="observed",result="error"}'),
      ).toBeGreaterThanOrEqual(2)
      expect(
        value(text, 'controller_runtime_reconcile_errors_total{controller="observed"}'),
      ).toBeGreaterThanOrEqual(2)
      expect(value(text, `workqueue_retries_total${l}`)).toBeGreaterThanOrEqual(1)
      expect(
        value(text, 'controller_runtime_reconcile_time_seconds_count{controller="observed"}'),
      ).toBeGreaterThanOrEqual(4)
      expect(
        value(text, `rest_client_requests_total{code="200",method="GET",host="${host}"}`),
      ).toBeGreaterThan(0)
      expect(
        value(text, `rest_client_requests_total{code="200",method="PATCH",host="${host}"}`),
      ).toBeGreaterThan(0)
      expect(
        value(text, `rest_client_request_duration_seconds_count{verb="PATCH",host="${host}"}`),
      ).toBeGreaterThan(0)

      // The API server calls the admission server (a server-side dry-run of a LanguageCluster).
      await webhook?.waitUntilServing()
      const after = await scrape()
      const hook = 'webhook="/validate/languageclusters"'
      expect(value(after, `controller_runtime_webhook_requests_total{${hook},code="200"}`)).toBeGreaterThan(0)
      expect(value(after, `controller_runtime_webhook_latency_seconds_count{${hook}}`)).toBeGreaterThan(0)
      expect(value(after, `controller_runtime_webhook_requests_in_flight{${hook}}`)).toBe(0)
      // A path no request reached yet has its series at zero (as controller-runtime registers them).
      expect(value(after, 'controller_runtime_webhook_requests_in_flight{webhook="/mutate/pods"}')).toBe(0)
      expect(
        value(after, 'controller_runtime_webhook_requests_total{webhook="/mutate/pods",code="500"}'),
      ).toBe(0)
    },
    TIMEOUT,
  )

  test(
    "spans reach a real OTLP collector: one per reconcile with its API calls as children, one per admission request",
    async () => {
      const key = `${namespace}/plain`
      const reconcile = await eventually("the span of the plain object's successful reconcile", () =>
        spans.find(
          (s) => s.name === "reconcile observed" && s.attrs.key === key && s.attrs.result === "success",
        ),
      )
      expect(reconcile.attrs).toMatchObject({
        controller: "observed",
        controllerGroup: "",
        controllerKind: "ConfigMap",
        namespace,
        name: "plain",
      })
      expect(String(reconcile.attrs.reconcileID)).toMatch(/^[0-9a-f-]{36}$/u)
      expect(reconcile.resource).toMatchObject({
        "service.name": "langop-observability-test",
        "deployment.environment": "test",
      })
      const children = await eventually("the reconcile's API-call spans", () => {
        const c = spans.filter((s) => s.parentSpanId === reconcile.spanId)
        return c.length >= 2 ? c : undefined
      })
      const get = children.find((s) => s.name === "GET configmaps")
      expect(get).toMatchObject({ traceId: reconcile.traceId, kind: 3 })
      expect(get?.attrs).toMatchObject({
        "http.request.method": "GET",
        "url.path": `/api/v1/namespaces/${namespace}/configmaps/plain`,
        "http.response.status_code": 200,
        "k8s.resource": "configmaps",
      })
      expect(children.find((s) => s.name === "PATCH configmaps")?.attrs).toMatchObject({
        "http.response.status_code": 200,
      })

      const failed = await eventually("the failing object's reconcile span", () =>
        spans.find((s) => s.name === "reconcile observed" && s.attrs.key === `${namespace}/failing`),
      )
      expect(failed.attrs.result).toBe("error")
      expect(failed.status).toBe(2)

      const admission = await eventually("an admission span", () =>
        spans.find((s) => s.name === "admission /validate/languageclusters"),
      )
      expect(admission.kind).toBe(2)
      expect(admission.attrs).toMatchObject({
        webhook: "/validate/languageclusters",
        kind: "LanguageCluster",
        operation: "CREATE",
        allowed: true,
      })
      // API calls outside a reconcile or admission (informer lists, watches) make no lone spans.
      for (const s of spans.filter((x) => x.kind === 3)) expect(s.parentSpanId, s.name).not.toBe("")
    },
    TIMEOUT,
  )
})
