// An in-memory API server for one or more resources, enough for informer/controller unit tests:
// resourceVersions, list, watch from a resourceVersion (410 when compacted), outages and
// server-side watch closes. Only the client methods the runtime uses are implemented.
import { Cause, Effect, Queue, Stream } from "effect"
import type { KubeClientShape, ListResult, WatchEvent } from "../../../src/kube/client.ts"
import { Conflict, type KubeError, NotFound, Transient } from "../../../src/kube/errors.ts"
import { type KubeObject, objectKey } from "../../../src/kube/objects.ts"
import type { ResourceDescriptor } from "../../../src/kube/resources.ts"

interface Watcher {
  readonly plural: string
  readonly namespace?: string | undefined
  readonly selector?: string | undefined
  readonly queue: Queue.Queue<WatchEvent, KubeError | Cause.Done>
}

/** Equality-based label selectors only (`k=v,k2=v2`), plus an optional namespace. */
const matches = (selector: string | undefined, o: KubeObject, namespace?: string): boolean =>
  (namespace === undefined || o.metadata.namespace === namespace) &&
  (selector === undefined ||
    selector.split(",").every((term) => {
      const [k, v] = term.split("=")
      return k !== undefined && o.metadata.labels?.[k] === v
    }))

export class FakeApi {
  rv = 100
  /** While true every request fails with a 503. */
  down = false
  /** Events older than this resourceVersion can no longer be watched from (410). */
  compactedBelow = 0
  readonly objects = new Map<string, Map<string, KubeObject>>()
  readonly history: Array<{ readonly plural: string; readonly rv: number; readonly ev: WatchEvent }> = []
  readonly watchers = new Set<Watcher>()
  readonly calls: Array<string> = []

  private bucket(plural: string): Map<string, KubeObject> {
    let b = this.objects.get(plural)
    if (b === undefined) {
      b = new Map()
      this.objects.set(plural, b)
    }
    return b
  }

  private publish(plural: string, ev: WatchEvent) {
    this.history.push({ plural, rv: this.rv, ev })
    for (const w of this.watchers)
      if (w.plural === plural && (ev.type === "ERROR" || matches(w.selector, ev.object, w.namespace)))
        Queue.offerUnsafe(w.queue, ev)
  }

  /** Creates or updates an object (server side), bumping its resourceVersion. */
  put(r: ResourceDescriptor, obj: KubeObject): KubeObject {
    const b = this.bucket(r.plural)
    const key = objectKey(obj)
    const existed = b.has(key)
    this.rv++
    const stored: KubeObject = {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: String(this.rv), uid: key },
    }
    b.set(key, stored)
    this.publish(r.plural, { type: existed ? "MODIFIED" : "ADDED", object: stored })
    return stored
  }

  remove(r: ResourceDescriptor, key: string): void {
    const b = this.bucket(r.plural)
    const obj = b.get(key)
    if (obj === undefined) return
    b.delete(key)
    this.rv++
    this.publish(r.plural, {
      type: "DELETED",
      object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } },
    })
  }

  bookmark(r: ResourceDescriptor): void {
    this.rv++
    for (const w of this.watchers)
      if (w.plural === r.plural)
        Queue.offerUnsafe(w.queue, {
          type: "BOOKMARK",
          object: { metadata: { resourceVersion: String(this.rv) } },
        })
  }

  /** Ends every open watch cleanly (as a server-side timeout does). */
  closeWatches(): void {
    for (const w of this.watchers) Queue.endUnsafe(w.queue)
    this.watchers.clear()
  }

  /** Breaks every open watch with a network error. */
  breakWatches(): void {
    for (const w of this.watchers)
      Queue.failCauseUnsafe(
        w.queue,
        Cause.fail(new Transient({ code: 0, request: "WATCH", message: "reset" })),
      )
    this.watchers.clear()
  }

  /** Forget history up to now: later watches from an older resourceVersion get 410. */
  compact(): void {
    this.compactedBelow = this.rv
  }

  private unavailable(op: string) {
    return new Transient({ code: 503, request: op, message: "apiserver down" })
  }

  readonly client: KubeClientShape = {
    get: (r, at) =>
      Effect.suspend(() => {
        const key = at.namespace === undefined || at.namespace === "" ? at.name : `${at.namespace}/${at.name}`
        const o = this.bucket(r.plural).get(key)
        return o === undefined
          ? Effect.fail(new NotFound({ code: 404, request: `GET ${key}`, message: "not found" }))
          : Effect.succeed(o)
      }),
    list: (r, opts) => this.client.listAll(r, opts),
    listAll: (r, opts) =>
      Effect.suspend((): Effect.Effect<ListResult, KubeError> => {
        this.calls.push(`list ${r.plural}`)
        if (this.down) return Effect.fail(this.unavailable("LIST"))
        const items = [...this.bucket(r.plural).values()].filter((o) =>
          matches(opts?.labelSelector, o, opts?.namespace),
        )
        return Effect.succeed({ items, resourceVersion: String(this.rv) })
      }),
    watch: (r, opts) =>
      Stream.callback<WatchEvent, KubeError>((queue) =>
        Effect.suspend(() => {
          this.calls.push(`watch ${r.plural} rv=${opts?.resourceVersion ?? ""}`)
          if (this.down) return Queue.failCause(queue, Cause.fail(this.unavailable("WATCH")))
          const from = Number(opts?.resourceVersion ?? "0")
          if (from < this.compactedBelow) {
            Queue.offerUnsafe(queue, {
              type: "ERROR",
              object: { code: 410, reason: "Expired", message: "too old" },
            })
            return Queue.end(queue)
          }
          const selector = opts?.labelSelector
          const namespace = opts?.namespace
          for (const h of this.history)
            if (
              h.plural === r.plural &&
              h.rv > from &&
              (h.ev.type === "ERROR" || matches(selector, h.ev.object, namespace))
            )
              Queue.offerUnsafe(queue, h.ev)
          const w: Watcher = { plural: r.plural, queue, selector, namespace }
          this.watchers.add(w)
          return Effect.addFinalizer(() => Effect.sync(() => this.watchers.delete(w)))
        }),
      ),
    create: (r, obj) => Effect.sync(() => this.put(r, obj)),
    replace: (r, obj) =>
      Effect.suspend(() => {
        const cur = this.bucket(r.plural).get(objectKey(obj))
        if (cur !== undefined && cur.metadata.resourceVersion !== obj.metadata.resourceVersion)
          return Effect.fail(new Conflict({ code: 409, request: "PUT", message: "stale", causes: [] }))
        return Effect.succeed(this.put(r, obj))
      }),
    apply: (r, obj) => Effect.sync(() => this.put(r, obj)),
    patch: (r, at) =>
      Effect.suspend(() => {
        const key = at.namespace === undefined || at.namespace === "" ? at.name : `${at.namespace}/${at.name}`
        const o = this.bucket(r.plural).get(key)
        return o === undefined
          ? Effect.fail(new NotFound({ code: 404, request: "PATCH", message: "not found" }))
          : Effect.succeed(this.put(r, o))
      }),
    delete: (r, at) =>
      Effect.sync(() =>
        this.remove(
          r,
          at.namespace === undefined || at.namespace === "" ? at.name : `${at.namespace}/${at.name}`,
        ),
      ),
  }
}

export const cm = (namespace: string, name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace, name, managedFields: [{ manager: "kubectl" }] },
  data,
})
