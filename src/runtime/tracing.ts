// OpenTelemetry tracing over OTLP/HTTP with Effect's own exporter (effect/observability), configured
// by the standard OTEL_* variables (src/settings.ts).
//
// Guarantees:
// - off unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set: then no
//   tracer is installed and `traced` (src/observability/hooks.ts) makes no span at all;
// - on: reconciles, API requests and admission requests become spans (`traced` in src/observability/hooks.ts), batched
//   and POSTed in the background; an unreachable collector costs dropped spans (Effect's exporter
//   retries 3 times, then pauses 60 s and says so at debug level), never a failed or slower
//   reconcile; closing the layer's scope flushes what is buffered (bounded wait);
// - sampling follows OTEL_TRACES_SAMPLER (parent-based by default, so a sampled parent keeps its
//   children and an unsampled one drops them).
import { Context, Duration, Effect, Layer, Option, Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"
import { TracingEnabled } from "../observability/hooks.ts"
import type { SettingsShape } from "../settings.ts"

export const tracesSamplers = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const
export type TracesSampler = (typeof tracesSamplers)[number]

export interface TracingOptions {
  /** Full URL of the traces endpoint (`…/v1/traces`). */
  readonly url: string
  readonly protocol: "http/protobuf" | "http/json"
  readonly headers: Readonly<Record<string, string>>
  readonly serviceName: string
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly sampler: TracesSampler
  /** Probability of the ratio samplers (0…1). */
  readonly ratio: number
  /** How often buffered spans are sent (default 5 s). */
  readonly exportInterval?: Duration.Input | undefined
}

/** `k=v,k2=v2` with URL-encoded values (the OTEL_* list format); malformed entries are an error. */
export const parseKeyValues = (
  text: string | undefined,
  variable: string,
): Record<string, string> | { readonly error: string } => {
  const out: Record<string, string> = {}
  for (const part of (text ?? "").split(",")) {
    if (part.trim() === "") continue
    const i = part.indexOf("=")
    const key = i < 0 ? "" : part.slice(0, i).trim()
    if (key === "") return { error: `${variable}: "${part.trim()}" is not key=value` }
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(part.slice(i + 1).trim())
    } catch {
      return { error: `${variable}: "${part.trim()}" is not valid URL encoding` }
    }
  }
  return out
}

/**
 * The tracing configuration the settings ask for; `undefined` = tracing off (no endpoint);
 * a string = the problem with a variable, for the startup error.
 */
export const tracingOptionsFromSettings = (s: SettingsShape): TracingOptions | undefined | string => {
  const url =
    s.tracesEndpoint ??
    (s.tracesBaseEndpoint === undefined
      ? undefined
      : `${s.tracesBaseEndpoint.replace(/\/+$/u, "")}/v1/traces`)
  if (url === undefined) return undefined
  const headers = parseKeyValues(s.tracesHeaders, "OTEL_EXPORTER_OTLP_HEADERS")
  if ("error" in headers && typeof headers.error === "string") return headers.error
  const attributes = parseKeyValues(s.otelResourceAttributes, "OTEL_RESOURCE_ATTRIBUTES")
  if ("error" in attributes && typeof attributes.error === "string") return attributes.error
  const { "service.name": fromAttributes, ...resourceAttributes } = attributes as Record<string, string>
  return {
    url,
    protocol: s.tracesProtocol,
    headers: headers as Record<string, string>,
    serviceName: s.otelServiceName ?? fromAttributes ?? "langop-operator",
    resourceAttributes,
    sampler: s.tracesSampler,
    ratio: s.tracesSamplerArg,
  }
}

/** Root decision of a sampler (a span without parent, or any span for the non-parent-based ones). */
const decide = (sampler: TracesSampler, ratio: number): boolean => {
  switch (sampler) {
    case "always_on":
    case "parentbased_always_on":
      return true
    case "always_off":
    case "parentbased_always_off":
      return false
    case "traceidratio":
    case "parentbased_traceidratio":
      // Trace ids are random, so a random draw samples the same fraction of traces.
      return Math.random() < ratio
  }
}

/** Wraps `inner` so new spans are sampled as the OTEL_TRACES_SAMPLER says. */
export const withSampler = (inner: Tracer.Tracer, sampler: TracesSampler, ratio: number): Tracer.Tracer =>
  Tracer.make({
    span(options) {
      const parentBased = sampler.startsWith("parentbased_")
      const sampled =
        parentBased && Option.isSome(options.parent)
          ? options.parent.value.sampled
          : options.sampled && decide(sampler, ratio)
      return inner.span({ ...options, sampled })
    },
    ...(inner.context !== undefined ? { context: inner.context } : {}),
  })

/** Installs the OTLP tracer (and turns `traced` on) for everything run under the layer. */
export const tracingLayer = (options: TracingOptions | undefined): Layer.Layer<never> => {
  if (options === undefined) return Layer.empty
  const tracer = Layer.effectContext(
    Effect.gen(function* () {
      const otlp = yield* OtlpTracer.make({
        url: options.url,
        resource: { serviceName: options.serviceName, attributes: { ...options.resourceAttributes } },
        headers: { ...options.headers },
        exportInterval: options.exportInterval ?? Duration.seconds(5),
      })
      return Context.make(Tracer.Tracer, withSampler(otlp, options.sampler, options.ratio)).pipe(
        Context.add(TracingEnabled, true),
      )
    }),
  )
  return tracer.pipe(
    Layer.provide(
      Layer.mergeAll(
        OtlpExporter.layerFlusher,
        options.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf,
        FetchHttpClient.layer,
      ),
    ),
  )
}
