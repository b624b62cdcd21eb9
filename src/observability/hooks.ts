// Hooks through which the Kubernetes transport and the admission server report what they did, read
// from the calling fiber's context: the runtime's metrics layer sets them (so whatever runs under
// the manager, its informers and the admission server is counted into that manager's registry),
// and code running without one (unit tests, one-off CLI calls) pays one context lookup and nothing
// else. This module depends on nothing but Effect so that src/kube and src/webhook can import it.
//
// Tracing follows the same rule: `traced` wraps an effect in a span only while `TracingEnabled` is
// set (by the OTLP tracing layer), so with tracing off no span object, attribute record or stack
// capture is made.
import { Context, Effect, Option, type Tracer } from "effect"

/** One finished API request attempt (client-go's rest_client metrics). */
export interface ApiCall {
  readonly method: string
  /** `host:port` of the API server, as client-go's `host` label. */
  readonly host: string
  /** HTTP status code, or `<error>` when no response arrived (client-go's convention). */
  readonly code: string
  readonly seconds: number
}

export interface ApiCallObserverShape {
  readonly record: (call: ApiCall) => void
}

export const ApiCallObserver = Context.Reference<ApiCallObserverShape>("langop/ApiCallObserver", {
  defaultValue: () => ({ record: () => undefined }),
})

export interface AdmissionObserverShape {
  /** Called once per webhook path when the server starts serving it. */
  readonly registered: (webhook: string) => void
  /** Called when a review arrives at `webhook` (the path); the returned function when it is answered. */
  readonly started: (webhook: string) => (code: number) => void
}

export const AdmissionObserver = Context.Reference<AdmissionObserverShape>("langop/AdmissionObserver", {
  defaultValue: () => ({ registered: () => undefined, started: () => () => undefined }),
})

/** True while an exporting tracer is installed (see tracing.ts). */
export const TracingEnabled = Context.Reference<boolean>("langop/TracingEnabled", {
  defaultValue: () => false,
})

/**
 * Runs `self` in a span named `name` when tracing is on; otherwise runs it unchanged. `attributes`
 * (and `name`, when a function) are only evaluated when a span is made. `childOnly` spans are made only under another span (API
 * calls: traced inside a reconcile or an admission request, but not the informers' lists and
 * watches or the Lease renewals every few seconds, which would be a stream of lone spans).
 */
export const traced =
  (
    name: string | (() => string),
    attributes: () => Record<string, unknown>,
    options: { readonly kind?: Tracer.SpanKind; readonly childOnly?: boolean } = {},
  ) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const span = () =>
      Effect.withSpan(self, typeof name === "string" ? name : name(), {
        attributes: attributes(),
        kind: options.kind ?? "internal",
        captureStackTrace: false,
      })
    return Effect.flatMap(Effect.service(TracingEnabled), (on) =>
      !on
        ? self
        : options.childOnly === true
          ? Effect.flatMap(Effect.option(Effect.currentParentSpan), (parent) =>
              Option.isSome(parent) ? span() : self,
            )
          : span(),
    )
  }

/** Sets an attribute on the current span when tracing is on. */
export const spanAttribute = (key: string, value: unknown): Effect.Effect<void> =>
  Effect.flatMap(Effect.service(TracingEnabled), (on) =>
    on ? Effect.annotateCurrentSpan(key, value) : Effect.void,
  )
