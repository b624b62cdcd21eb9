/**
 * The admission server: HTTPS on @effect/platform-node, one POST route per handler-table entry,
 * `GET /healthz`, certificate from {@link ServingCertificate} swapped in with
 * `server.setSecureContext` whenever it reloads.
 *
 * Guarantees:
 * - No input crashes it: every POST to a table path is answered with HTTP 200 and a well-formed
 *   `admission.k8s.io/v1` AdmissionReview, or HTTP 400 (the envelope cannot be read, message in the
 *   body) or HTTP 413 (body over `maxBodyBytes`, default 3 MiB as the API server's own limit).
 * - A review for another kind than the endpoint's is denied (code 400) without calling the handler;
 *   an operation the endpoint does not register is allowed unchanged; a validating handler that
 *   returns a patch is denied as an internal error (code 500) rather than passed on.
 * - The response `uid` echoes the request's; `dryRun` reviews are answered like real ones.
 * - New TLS handshakes use the newest valid certificate; open connections finish on theirs.
 * - Every POST is reported to the context's `AdmissionObserver` (request count by HTTP code, latency,
 *   in flight, per path) and, with tracing on, is one server span (path, kind, operation, allowed).
 * Assumptions: binds `127.0.0.1` by default (in a Pod set the host to `0.0.0.0`); the table's
 * handlers get their requirements `R` from the layer's context.
 */
import { createServer, type Server } from "node:https"
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Context, Effect, type FileSystem, Layer, type Path } from "effect"
import { HttpIncomingMessage, HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { ServeError } from "effect/http/HttpServerError"
import { AdmissionObserver, spanAttribute, traced } from "../observability/hooks.ts"
import { Settings } from "../settings.ts"
import { DefaultWebhookPort } from "./configurations.ts"
import type { HandlerEntry, HandlerTable } from "./handlers.ts"
import { type AdmissionHandler, allow, answerReview, deny, violation } from "./review.ts"
import { ServingCertificate, layer as servingCertificateLayer } from "./tls.ts"

/** The API server refuses request bodies over 3 MiB, so a review is never larger. */
export const DefaultMaxBodyBytes = 3 * 1024 * 1024

export interface WebhookServerOptions {
  /** Default 9443; 0 picks a free port (tests). */
  readonly port?: number | undefined
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 3 MiB. */
  readonly maxBodyBytes?: number | undefined
}

export class WebhookServer extends Context.Service<
  WebhookServer,
  {
    readonly host: string
    /** The bound port (the real one when 0 was asked for). */
    readonly port: number
    /** `https://host:port<path>`. */
    readonly url: (path: string) => string
    /** Readiness: listening (true once the layer is built) and a valid certificate loaded. */
    readonly ready: Effect.Effect<boolean>
  }
>()("langop/webhook/WebhookServer") {}

/**
 * Wraps an entry's handler with the checks that hold for every endpoint (see module header), so
 * handlers may assume the kind and operation they were registered for.
 */
export const guardedHandler =
  <R>(entry: HandlerEntry<R>): AdmissionHandler<R> =>
  (request) => {
    if (request.kind.group !== entry.group || request.kind.kind !== entry.kind) {
      const got = `${request.kind.group === "" ? "" : `${request.kind.group}/`}${request.kind.kind}`
      return Effect.succeed(
        deny(
          request,
          [violation("request.kind", `${entry.path} admits ${entry.kind} objects only, got ${got}`)],
          {
            code: 400,
            reason: "BadRequest",
          },
        ),
      )
    }
    if (!entry.operations.includes(request.operation)) return Effect.succeed(allow(request))
    return Effect.map(entry.handler(request), (response) =>
      entry.type === "validating" && response.patch !== undefined
        ? deny(
            request,
            [violation("", `internal error: the validating handler for ${entry.path} returned a patch`)],
            {
              code: 500,
              reason: "InternalError",
            },
          )
        : response,
    )
  }

const contentLength = (request: HttpServerRequest.HttpServerRequest): number | undefined => {
  const value = request.headers["content-length"]
  if (value === undefined || !/^\d+$/u.test(value)) return undefined
  return Number(value)
}

const tooLarge = (max: number) =>
  HttpServerResponse.text(`request body exceeds ${max} bytes`, { status: 413, contentType: "text/plain" })

/** `Exclude<R, R>` does not reduce for a type parameter; providing the whole context does remove `R`. */
const provideAll =
  <R>(context: Context.Context<R>) =>
  <A, E>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E> =>
    Effect.provideContext(effect, context) as Effect.Effect<A, E>

/** The decoded review's identity and the answer on the request's span (a no-op with tracing off). */
const annotated =
  (handle: AdmissionHandler): AdmissionHandler =>
  (request) =>
    Effect.gen(function* () {
      yield* spanAttribute("kind", request.kind.kind)
      yield* spanAttribute("operation", request.operation)
      yield* spanAttribute("namespace", request.namespace ?? "")
      yield* spanAttribute("name", request.name ?? "")
      const response = yield* handle(request)
      yield* spanAttribute("allowed", response.allowed)
      return response
    })

/** Reports the request to the caller's `AdmissionObserver` (controller-runtime's webhook metrics). */
const observed = (
  path: string,
  self: Effect.Effect<HttpServerResponse.HttpServerResponse>,
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.flatMap(Effect.service(AdmissionObserver), (observer) => {
    const done = observer.started(path)
    return Effect.onExit(self, (exit) =>
      Effect.sync(() => done(exit._tag === "Success" ? exit.value.status : 500)),
    )
  })

const route = <R>(entry: HandlerEntry<R>, context: Context.Context<R>, maxBodyBytes: number) => {
  const guarded = guardedHandler(entry)
  const handle: AdmissionHandler = annotated((request) => provideAll(context)(guarded(request)))
  return HttpRouter.add("POST", entry.path, (request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function* () {
      const declared = contentLength(request)
      if (declared !== undefined && declared > maxBodyBytes) return tooLarge(maxBodyBytes)
      const body = yield* request.text
      const answer = yield* answerReview(body, handle)
      return answer._tag === "BadRequest"
        ? HttpServerResponse.text(answer.message, { status: 400, contentType: "text/plain" })
        : HttpServerResponse.jsonUnsafe(answer.review)
    }).pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes)),
      Effect.catchTag("HttpServerError", (error) =>
        Effect.succeed(
          error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
            ? tooLarge(maxBodyBytes)
            : HttpServerResponse.text(`cannot read the request body: ${error.message}`, {
                status: 400,
                contentType: "text/plain",
              }),
        ),
      ),
      (self) => observed(entry.path, self),
      traced(`admission ${entry.path}`, () => ({ webhook: entry.path }), { kind: "server" }),
    ),
  )
}

const healthz = HttpRouter.add("GET", "/healthz", HttpServerResponse.text("ok"))

const boundPort = (server: Server, fallback: number) => {
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : fallback
}

/**
 * The admission server for `table`, listening until the layer's scope closes (graceful: open
 * requests finish). Needs the certificate service and whatever the handlers need.
 */
export const layer = <R>(
  table: HandlerTable<R>,
  options: WebhookServerOptions = {},
): Layer.Layer<WebhookServer, ServeError, ServingCertificate | R> =>
  Layer.effect(
    WebhookServer,
    Effect.gen(function* () {
      const certificate = yield* ServingCertificate
      const context = yield* Effect.context<R>()
      const host = options.host ?? "127.0.0.1"
      const maxBodyBytes = options.maxBodyBytes ?? DefaultMaxBodyBytes
      const initial = yield* certificate.current
      const server = createServer({
        ...(initial === undefined ? {} : { cert: initial.pair.cert, key: initial.pair.key }),
        minVersion: "TLSv1.2",
        // Bounds slow clients; the API server gives up after the webhook's 5 s timeout anyway.
        requestTimeout: 30_000,
      })
      yield* certificate.onChange((pair) => server.setSecureContext({ cert: pair.cert, key: pair.key }))
      if (initial === undefined) {
        yield* Effect.logWarning(
          `no valid serving certificate in ${certificate.dir} yet; TLS handshakes fail until one appears`,
        )
      }
      const routes = Layer.mergeAll(healthz, ...table.map((entry) => route(entry, context, maxBodyBytes)))
      const observer = yield* Effect.service(AdmissionObserver)
      for (const entry of table) observer.registered(entry.path)
      yield* Layer.build(
        HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
          Layer.provide(
            NodeHttpServer.layer(() => server, { port: options.port ?? DefaultWebhookPort, host }),
          ),
        ),
      )
      const port = boundPort(server, options.port ?? DefaultWebhookPort)
      const authority = host.includes(":") ? `[${host}]` : host
      yield* Effect.logInfo(
        `admission server listening on https://${authority}:${port} (${table.length} webhooks)`,
      )
      return WebhookServer.of({
        host,
        port,
        url: (path) => `https://${authority}:${port}${path}`,
        ready: certificate.ready,
      })
    }),
  )

/**
 * The server and its certificate reloader configured from the operator settings
 * (`LANGOP_WEBHOOK_HOST`, `LANGOP_WEBHOOK_PORT`, `LANGOP_CERT_DIR`): what `main.ts` uses. Exposes
 * both services; register `WebhookServer.ready` as the readiness check "certificate loaded".
 */
export const layerFromSettings = <R>(
  table: HandlerTable<R>,
): Layer.Layer<
  WebhookServer | ServingCertificate,
  ServeError,
  R | Settings | FileSystem.FileSystem | Path.Path
> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* Settings
      return layer(table, { port: settings.webhookPort, host: settings.webhookHost }).pipe(
        Layer.provideMerge(servingCertificateLayer({ dir: settings.certDir })),
      )
    }),
  )
