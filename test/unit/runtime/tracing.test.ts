// Tracing configuration from the standard OTEL_* variables, the samplers, and `traced` making spans
// only while tracing is on.
import { Context, Effect, Exit, Option, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { operationOf } from "../../../src/kube/transport.ts"
import { spanAttribute, TracingEnabled, traced } from "../../../src/observability/hooks.ts"
import { tracingOptionsFromSettings, withSampler } from "../../../src/runtime/tracing.ts"
import { settingsFrom } from "../../../src/settings.ts"

const options = (env: Record<string, string>) => tracingOptionsFromSettings(Effect.runSync(settingsFrom(env)))

/** A tracer that keeps every span it makes. */
const recorder = () => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span(o) {
      const s = Tracer.nativeTracer.span(o)
      spans.push(s)
      return s
    },
  })
  return { spans, tracer }
}

type SpanOptions = Parameters<Tracer.Tracer["span"]>[0]
const root = (sampled: boolean): SpanOptions => ({
  name: "x",
  parent: Option.none(),
  annotations: Context.empty(),
  links: [],
  startTime: 0n,
  kind: "internal",
  root: true,
  sampled,
})

describe("tracing settings", () => {
  it("is off without an endpoint", () => {
    expect(options({})).toBeUndefined()
    expect(options({ OTEL_SERVICE_NAME: "x" })).toBeUndefined()
  })

  it("sends to <base>/v1/traces, or to the traces endpoint as is, which wins", () => {
    expect(options({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toMatchObject({
      url: "http://collector:4318/v1/traces",
      protocol: "http/protobuf",
      serviceName: "langop-operator",
      sampler: "parentbased_always_on",
      ratio: 1,
    })
    expect(
      options({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/otlp/spans",
      }),
    ).toMatchObject({ url: "https://traces.example/otlp/spans" })
  })

  it("takes the service name from OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }
    expect(
      options({
        ...base,
        OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs,deployment.environment=prod%20eu",
      }),
    ).toMatchObject({
      serviceName: "from-attrs",
      resourceAttributes: { "deployment.environment": "prod eu" },
    })
    expect(
      options({
        ...base,
        OTEL_SERVICE_NAME: "explicit",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs",
      }),
    ).toMatchObject({ serviceName: "explicit" })
    expect(
      options({ ...base, OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0k,x-team=ops" }),
    ).toMatchObject({
      headers: { authorization: "Bearer t0k", "x-team": "ops" },
    })
  })

  it("names the variable and the rule of a malformed value", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }
    expect(options({ ...base, OTEL_EXPORTER_OTLP_HEADERS: "novalue" })).toBe(
      'OTEL_EXPORTER_OTLP_HEADERS: "novalue" is not key=value',
    )
    expect(options({ ...base, OTEL_RESOURCE_ATTRIBUTES: "a=%zz" })).toBe(
      'OTEL_RESOURCE_ATTRIBUTES: "a=%zz" is not valid URL encoding',
    )
    for (const env of [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" },
      { OTEL_TRACES_SAMPLER_ARG: "2" },
      { OTEL_TRACES_SAMPLER: "sometimes" },
      { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
    ]) {
      const exit = Effect.runSyncExit(settingsFrom(env))
      expect(Exit.isFailure(exit), JSON.stringify(env)).toBe(true)
      if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain(Object.keys(env)[0])
    }
  })
})

describe("samplers", () => {
  it("parent-based samplers follow the parent; root decisions follow the sampler", () => {
    const { spans, tracer } = recorder()
    const parentBased = withSampler(tracer, "parentbased_traceidratio", 0)
    const dropped = parentBased.span(root(true))
    expect(dropped.sampled).toBe(false)
    const kept = withSampler(tracer, "parentbased_always_on", 1).span(root(true))
    expect(parentBased.span({ ...root(true), root: false, parent: Option.some(kept) }).sampled).toBe(true)
    expect(withSampler(tracer, "always_off", 1).span(root(true)).sampled).toBe(false)
    expect(withSampler(tracer, "traceidratio", 1).span(root(true)).sampled).toBe(true)
    expect(spans).toHaveLength(5)
  })
})

describe("API call span names", () => {
  it("name the verb and the resource, never the object", () => {
    const op = (method: "GET" | "PATCH", path: string) => operationOf({ method, path })
    expect(op("GET", "/api/v1/namespaces/ns/configmaps/a")).toEqual({
      name: "GET configmaps",
      resource: "configmaps",
    })
    expect(op("GET", "/api/v1/namespaces/ns")).toEqual({ name: "GET namespaces", resource: "namespaces" })
    expect(op("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web/status")).toEqual({
      name: "PATCH deployments/status",
      resource: "deployments",
    })
    expect(op("GET", "/apis/langop.io/v1alpha1/languageclusters")).toMatchObject({
      name: "GET languageclusters",
    })
    expect(op("GET", "/version")).toEqual({ name: "GET /version" })
  })
})

describe("traced", () => {
  const work = Effect.succeed(1).pipe(
    Effect.tap(() => spanAttribute("result", "success")),
    traced("GET configmaps", () => ({ "url.path": "/api/v1/configmaps" }), {
      kind: "client",
      childOnly: true,
    }),
    traced("reconcile things", () => ({ controller: "things", key: "ns/a" })),
  )

  it("makes a child-only span only under another span", () => {
    const { spans, tracer } = recorder()
    const lone = Effect.succeed(1).pipe(traced("GET leases", () => ({}), { kind: "client", childOnly: true }))
    Effect.runSync(lone.pipe(Effect.withTracer(tracer), Effect.provideService(TracingEnabled, true)))
    expect(spans).toHaveLength(0)
  })

  it("makes no span while tracing is off, even with a tracer installed", () => {
    const { spans, tracer } = recorder()
    expect(Effect.runSync(work.pipe(Effect.withTracer(tracer)))).toBe(1)
    expect(spans).toHaveLength(0)
  })

  it("makes nested spans with their attributes while tracing is on", () => {
    const { spans, tracer } = recorder()
    Effect.runSync(work.pipe(Effect.withTracer(tracer), Effect.provideService(TracingEnabled, true)))
    const [outer, inner] = spans
    expect(outer?.name).toBe("reconcile things")
    expect(Object.fromEntries(outer?.attributes ?? [])).toEqual({ controller: "things", key: "ns/a" })
    expect(inner?.name).toBe("GET configmaps")
    expect(inner?.kind).toBe("client")
    expect(Object.fromEntries(inner?.attributes ?? [])).toEqual({
      "url.path": "/api/v1/configmaps",
      result: "success",
    })
    expect(Option.getOrUndefined(inner?.parent ?? Option.none())?.spanId).toBe(outer?.spanId)
  })
})
