// One logical informer over several namespaces (LANGOP_WATCH_NAMESPACES): one list/watch per
// namespace, presented as a single Informer with one cache view.
//
// Guarantees: every read answers exactly as a single all-namespaces informer restricted to those
// namespaces would (a key lives in the part of its namespace); handlers see the events of every
// part; synced only when every part has synced; the parts run (and fail, and recover) independently.
import { Effect } from "effect"
import { refOfKey } from "../kube/objects.ts"
import type { CacheReader } from "./cache.ts"
import type { Informer, InformerSource } from "./informer.ts"

const concat = <A>(xs: ReadonlyArray<ReadonlyArray<A>>): ReadonlyArray<A> => xs.flat()

export const mergeInformers = <T>(
  id: string,
  source: InformerSource<T>,
  parts: ReadonlyArray<Informer<T>>,
): Informer<T> => {
  const byNamespace = new Map(parts.map((p) => [p.source.namespace ?? "", p]))
  const partOf = (key: string) => byNamespace.get(refOfKey(key).namespace)
  const cache: CacheReader<T> = {
    get: (key) => partOf(key)?.cache.get(key),
    getByName: (namespace, name) => byNamespace.get(namespace)?.cache.getByName(namespace, name),
    list: (namespace) =>
      namespace === undefined
        ? concat(parts.map((p) => p.cache.list()))
        : (byNamespace.get(namespace)?.cache.list(namespace) ?? []),
    keys: () => concat(parts.map((p) => p.cache.keys())),
    byIndex: (index, value) => concat(parts.map((p) => p.cache.byIndex(index, value))),
    keysByIndex: (index, value) => concat(parts.map((p) => p.cache.keysByIndex(index, value))),
    size: () => parts.reduce((n, p) => n + p.cache.size(), 0),
    hasSynced: () => parts.every((p) => p.cache.hasSynced()),
  }
  return {
    id,
    source,
    cache,
    subscribe: (handler, options) => {
      const offs = parts.map((p) => p.subscribe(handler, options))
      return () => {
        for (const off of offs) off()
      }
    },
    addIndexers: (ix) => {
      for (const p of parts) p.addIndexers(ix)
    },
    hasSynced: () => cache.hasSynced(),
    waitForSync: Effect.forEach(parts, (p) => p.waitForSync, { discard: true }),
    run: Effect.raceAll(parts.map((p) => p.run)),
  }
}
