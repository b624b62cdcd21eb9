// HTTP transport to the API server: node:http(s) with the kubeconfig's TLS material and credentials.
//
// Why not client-node's generated APIs or KubernetesObjectApi: they need per-call header tricks for
// server-side apply, perform discovery GETs, hide the response status/headers we need for error
// classification (Retry-After) and create a new undici Agent (new TLS handshake) per request.
// Instead we ask client-node's KubeConfig for what it is good at — resolving kubeconfig/in-cluster
// credentials, including refreshing exec/file tokens (`applyToHTTPSOptions` is called per request) —
// and send the request ourselves over ONE keep-alive agent.
//
// Guarantees: an interrupted request is destroyed (socket released); a request never fails with a
// defect — every failure is a typed `KubeError` (network errors are `Transient`, code 0). Every
// attempt is reported to the caller's `ApiCallObserver` (client-go's rest_client metrics; a watch
// when its response head arrives) and, with tracing on, each non-watch request is a client span.
import * as http from "node:http"
import * as https from "node:https"
import type { KubeConfig } from "@kubernetes/client-node"
import { Cause, Duration, Effect, Queue, type Scope, Stream } from "effect"
import { ApiCallObserver, spanAttribute, traced } from "../observability/hooks.ts"
import { classify, type KubeError, parseRetryAfter, parseStatus, Transient } from "./errors.ts"

export type Query = Readonly<Record<string, string | number | boolean | undefined>>

export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly query?: Query | undefined
  readonly body?: string | undefined
  readonly contentType?: string | undefined
}

export interface HttpResponse {
  readonly status: number
  readonly body: string
  readonly retryAfter: string | undefined
}

export interface Transport {
  /** Sends one request and reads the whole body; fails only on network errors and timeouts. */
  readonly send: (req: HttpRequest, timeout?: Duration.Input) => Effect.Effect<HttpResponse, KubeError>
  /**
   * Opens a streaming GET and emits the body line by line (watch responses are one JSON document
   * per line). A non-200 response fails the stream with the classified error.
   */
  readonly lines: (req: HttpRequest) => Stream.Stream<string, KubeError>
}

const describe = (req: HttpRequest): string => `${req.method} ${req.path}`

const buildUrl = (server: string, req: HttpRequest): URL => {
  const url = new URL(server.replace(/\/+$/u, "") + req.path)
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v))
  }
  return url
}

/** `GET deployments`, `PATCH deployments/status`: the span name of a request (low cardinality). */
export const operationOf = (req: HttpRequest): { readonly name: string; readonly resource?: string } => {
  const seg = req.path.split("/").filter((x) => x !== "")
  let rest = seg[0] === "api" ? seg.slice(2) : seg[0] === "apis" ? seg.slice(3) : []
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2)
  const resource = rest[0]
  if (resource === undefined) return { name: `${req.method} ${req.path}` }
  const sub = rest[2]
  return { name: `${req.method} ${resource}${sub === undefined ? "" : `/${sub}`}`, resource }
}

/**
 * Builds a transport for the kubeconfig's current context. The keep-alive agent lives as long as
 * the enclosing scope.
 */
export const makeTransport = (kc: KubeConfig): Effect.Effect<Transport, never, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = kc.getCurrentCluster()
    if (cluster === null) return yield* Effect.die(new Error("kubeconfig has no current cluster"))
    const server = cluster.server
    // As written in the kubeconfig, like client-go's `host` label: URL.host would drop `:443`.
    const host = server.replace(/^[a-z]+:\/\//iu, "").split("/")[0] ?? server
    const secure = server.startsWith("https:")
    const probe: https.RequestOptions = {}
    yield* Effect.promise(() => kc.applyToHTTPSOptions(probe))
    // A proxy agent from client-node is used as is; otherwise one keep-alive agent for all requests.
    const agent: http.Agent =
      cluster.proxyUrl !== undefined && probe.agent instanceof http.Agent
        ? probe.agent
        : yield* Effect.acquireRelease(
            Effect.sync(() =>
              secure
                ? new https.Agent({
                    keepAlive: true,
                    keepAliveMsecs: 30_000,
                    ...(probe.ca !== undefined ? { ca: probe.ca } : {}),
                    ...(probe.cert !== undefined ? { cert: probe.cert } : {}),
                    ...(probe.key !== undefined ? { key: probe.key } : {}),
                    ...(probe.rejectUnauthorized !== undefined
                      ? { rejectUnauthorized: probe.rejectUnauthorized }
                      : {}),
                    ...(probe.servername !== undefined ? { servername: probe.servername } : {}),
                  })
                : new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000 }),
            ),
            (a) => Effect.sync(() => a.destroy()),
          )

    /** Credentials are resolved per request so rotated tokens (exec, in-cluster file) are picked up. */
    const authHeaders = Effect.tryPromise({
      try: async () => {
        const opts: https.RequestOptions = {}
        await kc.applyToHTTPSOptions(opts)
        return { headers: (opts.headers ?? {}) as http.OutgoingHttpHeaders, auth: opts.auth ?? undefined }
      },
      catch: (e) => new Transient({ code: 0, request: "auth", message: `credentials: ${String(e)}` }),
    })

    /** Issues the request and resolves with the response head (body not yet read). */
    const open = (req: HttpRequest): Effect.Effect<http.IncomingMessage, KubeError> =>
      Effect.flatMap(authHeaders, ({ headers, auth }) =>
        Effect.callback<http.IncomingMessage, KubeError>((resume) => {
          const url = buildUrl(server, req)
          const allHeaders: http.OutgoingHttpHeaders = {
            ...headers,
            accept: "application/json",
            "user-agent": "langop-operator",
            ...(req.contentType !== undefined ? { "content-type": req.contentType } : {}),
            ...(req.body !== undefined ? { "content-length": Buffer.byteLength(req.body) } : {}),
          }
          const options: https.RequestOptions = {
            method: req.method,
            agent,
            headers: allHeaders,
            ...(auth !== undefined ? { auth } : {}),
          }
          const r = (secure ? https : http).request(url, options, (res) => resume(Effect.succeed(res)))
          r.on("error", (e) =>
            resume(Effect.fail(new Transient({ code: 0, request: describe(req), message: e.message }))),
          )
          r.end(req.body)
          return Effect.sync(() => r.destroy())
        }),
      )

    const readBody = (res: http.IncomingMessage, req: HttpRequest): Effect.Effect<string, KubeError> =>
      Effect.callback<string, KubeError>((resume) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8"))))
        res.on("error", (e) =>
          resume(Effect.fail(new Transient({ code: 0, request: describe(req), message: e.message }))),
        )
        return Effect.sync(() => res.destroy())
      })

    const retryAfterOf = (res: http.IncomingMessage): string | undefined => {
      const h = res.headers["retry-after"]
      return Array.isArray(h) ? h[0] : h
    }

    /** Reports the attempt to the caller's observer once `self` ends (interruptions are not attempts). */
    const observed = <A>(req: HttpRequest, self: Effect.Effect<A, KubeError>, status: (a: A) => number) =>
      Effect.flatMap(Effect.service(ApiCallObserver), (observer) => {
        const started = performance.now()
        return Effect.onExit(self, (exit) =>
          exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)
            ? Effect.void
            : Effect.sync(() =>
                observer.record({
                  method: req.method,
                  host,
                  code: exit._tag === "Success" ? String(status(exit.value)) : "<error>",
                  seconds: (performance.now() - started) / 1000,
                }),
              ),
        )
      })

    const send: Transport["send"] = (req, timeout = "30 seconds") =>
      Effect.gen(function* () {
        const res = yield* open(req)
        const body = yield* readBody(res, req)
        return { status: res.statusCode ?? 0, body, retryAfter: retryAfterOf(res) }
      }).pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () =>
            Effect.fail(
              new Transient({
                code: 0,
                request: describe(req),
                message: `timed out after ${Duration.format(Duration.fromInputUnsafe(timeout))}`,
              }),
            ),
        }),
        (self) => observed(req, self, (r) => r.status),
        Effect.tap((r) => spanAttribute("http.response.status_code", r.status)),
        traced(
          () => operationOf(req).name,
          () => {
            const resource = operationOf(req).resource
            return {
              "http.request.method": req.method,
              "url.path": req.path,
              "server.address": host,
              ...(resource === undefined ? {} : { "k8s.resource": resource }),
            }
          },
          { kind: "client", childOnly: true },
        ),
      )

    const lines: Transport["lines"] = (req) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const res = yield* Effect.acquireRelease(
            observed(req, open(req), (r) => r.statusCode ?? 0),
            (r) => Effect.sync(() => r.destroy()),
          )
          const status = res.statusCode ?? 0
          if (status !== 200) {
            const body = yield* readBody(res, req)
            return yield* Effect.fail(errorOf(status, body, retryAfterOf(res), describe(req)))
          }
          return Stream.callback<string, KubeError>((queue) =>
            Effect.sync(() => {
              let rest = ""
              res.setEncoding("utf8")
              res.on("data", (chunk: string) => {
                const parts = (rest + chunk).split("\n")
                rest = parts.pop() ?? ""
                for (const line of parts) if (line.trim() !== "") queueOffer(queue, line)
              })
              res.on("end", () => {
                if (rest.trim() !== "") queueOffer(queue, rest)
                queueEnd(queue)
              })
              res.on("error", (e) =>
                queueFail(queue, new Transient({ code: 0, request: describe(req), message: e.message })),
              )
              // A connection closed before the response completed is an error, not a clean end.
              res.on("close", () =>
                res.complete
                  ? queueEnd(queue)
                  : queueFail(
                      queue,
                      new Transient({
                        code: 0,
                        request: describe(req),
                        message: "connection closed mid-stream",
                      }),
                    ),
              )
            }),
          )
        }),
      )

    return { send, lines }
  })

const queueOffer = (q: Queue.Queue<string, KubeError | Cause.Done>, line: string): void => {
  Queue.offerUnsafe(q, line)
}
const queueEnd = (q: Queue.Queue<string, KubeError | Cause.Done>): void => {
  Queue.endUnsafe(q)
}
const queueFail = (q: Queue.Queue<string, KubeError | Cause.Done>, e: KubeError): void => {
  Queue.failCauseUnsafe(q, Cause.fail(e))
}

/** Classifies a non-2xx response. */
export const errorOf = (
  status: number,
  body: string,
  retryAfter: string | undefined,
  request: string,
): KubeError =>
  classify(status, {
    request,
    status: parseStatus(body),
    retryAfterMs: parseRetryAfter(retryAfter, Date.now()),
    body,
  })
