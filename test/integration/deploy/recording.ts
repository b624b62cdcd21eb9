// A KubeClient decorator that records EVERY request the operator makes (reads, watches and writes) with
// its outcome, so a test can tell which permissions were used and whether any request was Forbidden.
import { Effect, Layer, Stream } from "effect"
import { KubeClient, type KubeClientShape } from "../../../src/kube/client.ts"
import type { KubeError } from "../../../src/kube/errors.ts"
import type { ResourceDescriptor } from "../../../src/kube/resources.ts"

export interface RecordedRequest {
  /** The RBAC verb the request needs. */
  readonly verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete"
  readonly group: string
  readonly resource: string
  readonly subresource: string | undefined
  readonly namespace: string
  readonly name: string | undefined
  /** A server-side apply of a whole object: authorized as patch, and also as create when it creates. */
  readonly serverSideApply?: boolean
  /** The error tag when the request failed (`Forbidden`, `NotFound`, …). */
  readonly failure: string | undefined
  readonly message: string | undefined
}

export const recordingClient = (inner: KubeClientShape, log: Array<RecordedRequest>): KubeClientShape => {
  const note =
    (
      verb: RecordedRequest["verb"],
      r: ResourceDescriptor,
      namespace: string | undefined,
      name: string | undefined,
      subresource?: string,
      serverSideApply = false,
    ) =>
    <A, R>(e: Effect.Effect<A, KubeError, R>): Effect.Effect<A, KubeError, R> => {
      const base = {
        verb,
        group: r.group,
        resource: r.plural,
        subresource,
        namespace: r.namespaced ? (namespace ?? "") : "",
        name,
        ...(serverSideApply ? { serverSideApply } : {}),
      }
      return e.pipe(
        Effect.tap(() => Effect.sync(() => log.push({ ...base, failure: undefined, message: undefined }))),
        Effect.tapError((err) =>
          Effect.sync(() => log.push({ ...base, failure: err._tag, message: err.message })),
        ),
      )
    }
  return {
    get: (r, at) => note("get", r, at.namespace, at.name)(inner.get(r, at)),
    list: (r, o) => note("list", r, o?.namespace, undefined)(inner.list(r, o)),
    listAll: (r, o) => note("list", r, o?.namespace, undefined)(inner.listAll(r, o)),
    watch: (r, o) =>
      inner.watch(r, o).pipe(
        Stream.onStart(
          Effect.sync(() =>
            log.push({
              verb: "watch",
              group: r.group,
              resource: r.plural,
              subresource: undefined,
              namespace: r.namespaced ? (o?.namespace ?? "") : "",
              name: undefined,
              failure: undefined,
              message: undefined,
            }),
          ),
        ),
        Stream.tapError((err) =>
          Effect.sync(() =>
            log.push({
              verb: "watch",
              group: r.group,
              resource: r.plural,
              subresource: undefined,
              namespace: r.namespaced ? (o?.namespace ?? "") : "",
              name: undefined,
              failure: err._tag,
              message: err.message,
            }),
          ),
        ),
      ),
    create: (r, obj, o) =>
      note("create", r, obj.metadata.namespace, obj.metadata.name)(inner.create(r, obj, o)),
    replace: (r, obj, o) =>
      note("update", r, obj.metadata.namespace, obj.metadata.name, o?.subresource)(inner.replace(r, obj, o)),
    apply: (r, obj, o) =>
      note(
        "patch",
        r,
        obj.metadata.namespace,
        obj.metadata.name,
        o.subresource,
        o.subresource === undefined && o.dryRun !== true,
      )(inner.apply(r, obj, o)),
    patch: (r, at, p, o) => note("patch", r, at.namespace, at.name, o?.subresource)(inner.patch(r, at, p, o)),
    delete: (r, at, o) => note("delete", r, at.namespace, at.name)(inner.delete(r, at, o)),
  }
}

/** Wraps the KubeClient of `layer`. */
export const recordingLayer = (
  layer: Layer.Layer<KubeClient>,
  log: Array<RecordedRequest>,
): Layer.Layer<KubeClient> =>
  Layer.effect(
    KubeClient,
    Effect.map(Effect.service(KubeClient), (inner) => recordingClient(inner, log)),
  ).pipe(Layer.provide(layer))
