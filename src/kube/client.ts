// KubeClient: a generic, GVK-addressed client over the API server's REST interface.
//
// Guarantees:
// - every operation is addressed by a `ResourceDescriptor` (no discovery requests);
// - non-watch operations retry `Transient`/`TooManyRequests` with capped exponential backoff and
//   jitter, never waiting less than the server's Retry-After (see retry.ts); other errors surface
//   immediately as typed errors (errors.ts);
// - writes to our custom resources use server-side apply, JSON merge patch or JSON patch only —
//   strategic merge patch is not offered (it is undefined for custom resources);
// - `watch` is one HTTP watch request: it ends when the server closes it; reconnecting and
//   relisting is the informer's job (src/runtime/informer.ts).
import { KubeConfig } from "@kubernetes/client-node"
import { Context, Effect, Layer, Stream } from "effect"
import { BadRequest, type KubeError, Transient } from "./errors.ts"
import type { KubeObject, Status } from "./objects.ts"
import { type ResourceDescriptor, resourcePath } from "./resources.ts"
import { defaultRetryPolicy, type RetryPolicy, retryTransient } from "./retry.ts"
import { errorOf, type HttpRequest, makeTransport, type Query, type Transport } from "./transport.ts"

/** Addresses one object; `namespace` is ignored for cluster-scoped resources. */
export interface ObjectAddress {
  readonly name: string
  readonly namespace?: string | undefined
}

export interface ListOptions {
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  /** Page size; `listAll` defaults it to 500. */
  readonly limit?: number | undefined
  readonly continue?: string | undefined
  readonly resourceVersion?: string | undefined
  readonly resourceVersionMatch?: "NotOlderThan" | "Exact" | undefined
  /**
   * Applied to every item as its page arrives, so `listAll` never holds more than one raw page (an
   * informer drops what it never needs, e.g. Secret values, before the next page is fetched).
   */
  readonly transform?: ((item: KubeObject) => KubeObject) | undefined
}

export interface ListResult<T = KubeObject> {
  readonly items: ReadonlyArray<T>
  readonly resourceVersion: string
  /** Present when more pages remain. */
  readonly continue?: string | undefined
}

export interface WatchOptions {
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly resourceVersion?: string | undefined
  readonly allowWatchBookmarks?: boolean | undefined
  /** Server-side timeout after which the server ends the watch cleanly. */
  readonly timeoutSeconds?: number | undefined
}

export type WatchEvent =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: KubeObject }
  | { readonly type: "ERROR"; readonly object: Status }

export interface WriteOptions {
  readonly fieldManager?: string | undefined
  readonly dryRun?: boolean | undefined
  /** e.g. "status" */
  readonly subresource?: string | undefined
}

export interface ApplyOptions {
  /** Required by server-side apply: the owner of the applied fields. */
  readonly fieldManager: string
  /** Take ownership of fields owned by another manager instead of failing with 409. */
  readonly force?: boolean | undefined
  readonly subresource?: string | undefined
  readonly dryRun?: boolean | undefined
}

export interface JsonPatchOp {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test"
  readonly path: string
  readonly value?: unknown
  readonly from?: string
}

/** RFC 7386 merge patch or RFC 6902 JSON patch. */
export type Patch =
  | { readonly type: "merge"; readonly body: Readonly<Record<string, unknown>> }
  | { readonly type: "json"; readonly ops: ReadonlyArray<JsonPatchOp> }

export interface DeleteOptions {
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan" | undefined
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined
  readonly gracePeriodSeconds?: number | undefined
  readonly dryRun?: boolean | undefined
}

export interface KubeClientShape {
  readonly get: (r: ResourceDescriptor, at: ObjectAddress) => Effect.Effect<KubeObject, KubeError>
  /** One page. */
  readonly list: (r: ResourceDescriptor, opts?: ListOptions) => Effect.Effect<ListResult, KubeError>
  /** All pages (following `continue`); the result's resourceVersion is the snapshot's. */
  readonly listAll: (r: ResourceDescriptor, opts?: ListOptions) => Effect.Effect<ListResult, KubeError>
  readonly watch: (r: ResourceDescriptor, opts?: WatchOptions) => Stream.Stream<WatchEvent, KubeError>
  readonly create: (
    r: ResourceDescriptor,
    obj: KubeObject,
    opts?: WriteOptions,
  ) => Effect.Effect<KubeObject, KubeError>
  /** PUT: optimistic-concurrency update (fails with Conflict when metadata.resourceVersion is stale). */
  readonly replace: (
    r: ResourceDescriptor,
    obj: KubeObject,
    opts?: WriteOptions,
  ) => Effect.Effect<KubeObject, KubeError>
  /** Server-side apply (`application/apply-patch+yaml`) of a partial object that names the fields we own. */
  readonly apply: (
    r: ResourceDescriptor,
    obj: KubeObject,
    opts: ApplyOptions,
  ) => Effect.Effect<KubeObject, KubeError>
  readonly patch: (
    r: ResourceDescriptor,
    at: ObjectAddress,
    patch: Patch,
    opts?: WriteOptions,
  ) => Effect.Effect<KubeObject, KubeError>
  readonly delete: (
    r: ResourceDescriptor,
    at: ObjectAddress,
    opts?: DeleteOptions,
  ) => Effect.Effect<void, KubeError>
}

export class KubeClient extends Context.Service<KubeClient, KubeClientShape>()("langop/KubeClient") {}

const APPLY = "application/apply-patch+yaml"
const MERGE = "application/merge-patch+json"
const JSON_PATCH = "application/json-patch+json"

const parseJson = (body: string, request: string): Effect.Effect<unknown, KubeError> =>
  Effect.try({
    try: () => (body === "" ? {} : (JSON.parse(body) as unknown)),
    catch: () =>
      new Transient({ code: 200, request, message: `malformed JSON response: ${body.slice(0, 200)}` }),
  })

const writeQuery = (o: WriteOptions | ApplyOptions | undefined): Query => ({
  fieldManager: o?.fieldManager,
  dryRun: o?.dryRun === true ? "All" : undefined,
  ...(o !== undefined && "force" in o && o.force !== undefined ? { force: o.force } : {}),
})

const nameOf = (obj: KubeObject, request: string): Effect.Effect<string, KubeError> =>
  obj.metadata.name === undefined || obj.metadata.name === ""
    ? Effect.fail(new BadRequest({ code: 400, request, message: "metadata.name is required" }))
    : Effect.succeed(obj.metadata.name)

/** Builds the client from a transport (the seam the unit tests use). */
export const makeKubeClient = (
  transport: Transport,
  policy: RetryPolicy = defaultRetryPolicy,
): KubeClientShape => {
  const retry = retryTransient(policy)

  const call = (req: HttpRequest): Effect.Effect<unknown, KubeError> =>
    retry(
      Effect.flatMap(transport.send(req), (res) =>
        res.status >= 200 && res.status < 300
          ? parseJson(res.body, `${req.method} ${req.path}`)
          : Effect.fail(errorOf(res.status, res.body, res.retryAfter, `${req.method} ${req.path}`)),
      ),
    )
  const callObject = (req: HttpRequest) => Effect.map(call(req), (u) => u as KubeObject)

  const list: KubeClientShape["list"] = (r, opts = {}) =>
    Effect.map(
      call({
        method: "GET",
        path: resourcePath(r, { namespace: opts.namespace }),
        query: {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: opts.limit,
          continue: opts.continue,
          resourceVersion: opts.resourceVersion,
          resourceVersionMatch: opts.resourceVersionMatch,
        },
      }),
      (u) => {
        const body = u as {
          items?: ReadonlyArray<KubeObject>
          metadata?: { resourceVersion?: string; continue?: string }
        }
        const cont = body.metadata?.continue
        const items = body.items ?? []
        return {
          items: opts.transform === undefined ? items : items.map(opts.transform),
          resourceVersion: body.metadata?.resourceVersion ?? "",
          ...(cont !== undefined && cont !== "" ? { continue: cont } : {}),
        }
      },
    )

  const listAll: KubeClientShape["listAll"] = (r, opts = {}) =>
    Effect.gen(function* () {
      const items: Array<KubeObject> = []
      let page = yield* list(r, { limit: 500, ...opts })
      items.push(...page.items)
      while (page.continue !== undefined) {
        // Later pages are served from the first page's snapshot; resourceVersion must not be sent.
        const { resourceVersion: _rv, resourceVersionMatch: _m, ...rest } = opts
        page = yield* list(r, { limit: 500, ...rest, continue: page.continue })
        items.push(...page.items)
      }
      return { items, resourceVersion: page.resourceVersion }
    })

  const watch: KubeClientShape["watch"] = (r, opts = {}) => {
    const req: HttpRequest = {
      method: "GET",
      path: resourcePath(r, { namespace: opts.namespace }),
      query: {
        watch: true,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks,
        timeoutSeconds: opts.timeoutSeconds,
      },
    }
    return transport.lines(req).pipe(
      Stream.mapEffect((line) =>
        Effect.flatMap(parseJson(line, `WATCH ${req.path}`), (u) => {
          const ev = u as { type?: string; object?: unknown }
          return ev.type === undefined || typeof ev.object !== "object" || ev.object === null
            ? Effect.fail(
                new Transient({ code: 200, request: `WATCH ${req.path}`, message: "malformed watch event" }),
              )
            : Effect.succeed(ev as WatchEvent)
        }),
      ),
    )
  }

  const pathOf = (r: ResourceDescriptor, at: ObjectAddress, subresource?: string) =>
    resourcePath(r, { namespace: at.namespace, name: at.name, subresource })

  return KubeClient.of({
    get: (r, at) => callObject({ method: "GET", path: pathOf(r, at) }),
    list,
    listAll,
    watch,
    create: (r, obj, opts) =>
      callObject({
        method: "POST",
        path: resourcePath(r, { namespace: obj.metadata.namespace }),
        query: writeQuery(opts),
        body: JSON.stringify(obj),
        contentType: "application/json",
      }),
    replace: (r, obj, opts) =>
      Effect.flatMap(nameOf(obj, `PUT ${r.plural}`), (name) =>
        callObject({
          method: "PUT",
          path: pathOf(r, { name, namespace: obj.metadata.namespace }, opts?.subresource),
          query: writeQuery(opts),
          body: JSON.stringify(obj),
          contentType: "application/json",
        }),
      ),
    apply: (r, obj, opts) =>
      Effect.flatMap(nameOf(obj, `APPLY ${r.plural}`), (name) =>
        callObject({
          method: "PATCH",
          path: pathOf(r, { name, namespace: obj.metadata.namespace }, opts.subresource),
          query: writeQuery(opts),
          // JSON is YAML: the server parses the body as YAML 1.2.
          body: JSON.stringify(obj),
          contentType: APPLY,
        }),
      ),
    patch: (r, at, p, opts) =>
      callObject({
        method: "PATCH",
        path: pathOf(r, at, opts?.subresource),
        query: writeQuery(opts),
        body: JSON.stringify(p.type === "merge" ? p.body : p.ops),
        contentType: p.type === "merge" ? MERGE : JSON_PATCH,
      }),
    delete: (r, at, opts = {}) =>
      Effect.asVoid(
        call({
          method: "DELETE",
          path: pathOf(r, at),
          query: { dryRun: opts.dryRun === true ? "All" : undefined },
          body: JSON.stringify({
            apiVersion: "v1",
            kind: "DeleteOptions",
            ...(opts.propagationPolicy !== undefined ? { propagationPolicy: opts.propagationPolicy } : {}),
            ...(opts.preconditions !== undefined ? { preconditions: opts.preconditions } : {}),
            ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
          }),
          contentType: "application/json",
        }),
      ),
  })
}

/** A client for an already loaded kubeconfig. */
export const layerFromKubeConfig = (kc: KubeConfig, policy?: RetryPolicy): Layer.Layer<KubeClient> =>
  Layer.effect(
    KubeClient,
    Effect.map(makeTransport(kc), (t) => makeKubeClient(t, policy)),
  )

/** A client for the kubeconfig file at `path` (tests, the local cluster harness). */
export const layerFromFile = (path: string, policy?: RetryPolicy): Layer.Layer<KubeClient> =>
  Layer.unwrap(
    Effect.sync(() => {
      const kc = new KubeConfig()
      kc.loadFromFile(path)
      return layerFromKubeConfig(kc, policy)
    }),
  )

/**
 * In-cluster service-account credentials when running in a Pod, otherwise `$KUBECONFIG` or
 * `~/.kube/config` (client-node's `loadFromDefault`).
 */
export const layerDefault: Layer.Layer<KubeClient> = Layer.unwrap(
  Effect.sync(() => {
    const kc = new KubeConfig()
    kc.loadFromDefault()
    return layerFromKubeConfig(kc)
  }),
)
