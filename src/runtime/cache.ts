// Read-only, indexed in-memory cache of one kind (client-go's thread-safe store + indexer).
//
// Guarantees: the informer is the only writer; readers see every object under its
// `namespace/name` key (or `name` for cluster-scoped kinds) and through every index, always
// consistent with each other (index updates happen in the same synchronous step as the write).
// Objects are stored as decoded, without `metadata.managedFields`, and must be treated as
// immutable (they are shared with every reader).
// Cost: get O(1); list(namespace) and byIndex O(result); each write O(number of index values).
import { refOfKey } from "../kube/objects.ts"

/** Index function: the index values an object is filed under (e.g. the tools an agent references). */
export type IndexFunc<T> = (obj: T) => ReadonlyArray<string>
export type Indexers<T> = Readonly<Record<string, IndexFunc<T>>>

export interface CacheReader<T> {
  readonly get: (key: string) => T | undefined
  readonly getByName: (namespace: string, name: string) => T | undefined
  /** All objects, or those of one namespace. */
  readonly list: (namespace?: string) => ReadonlyArray<T>
  readonly keys: () => ReadonlyArray<string>
  /** Objects filed under `value` by the named indexer (unknown index names die: that is a wiring bug). */
  readonly byIndex: (index: string, value: string) => ReadonlyArray<T>
  readonly keysByIndex: (index: string, value: string) => ReadonlyArray<string>
  readonly size: () => number
  /** True once the first full list has been stored. */
  readonly hasSynced: () => boolean
}

const addTo = (m: Map<string, Set<string>>, value: string, key: string) => {
  let s = m.get(value)
  if (s === undefined) {
    s = new Set()
    m.set(value, s)
  }
  s.add(key)
}
const removeFrom = (m: Map<string, Set<string>>, value: string, key: string) => {
  const s = m.get(value)
  if (s === undefined) return
  s.delete(key)
  if (s.size === 0) m.delete(value)
}

export class Store<T> implements CacheReader<T> {
  private readonly items = new Map<string, T>()
  private readonly byNamespace = new Map<string, Set<string>>()
  private readonly indexers = new Map<string, IndexFunc<T>>()
  private readonly indices = new Map<string, Map<string, Set<string>>>()
  /** Index values each key is currently filed under, per index (needed to unfile on update). */
  private readonly filed = new Map<string, Map<string, ReadonlyArray<string>>>()
  private synced = false

  constructor(indexers: Indexers<T> = {}) {
    this.addIndexers(indexers)
  }

  /** Adds indexers; existing objects are indexed at once. Re-adding the same function is a no-op. */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.indexers.get(name)
      if (existing === fn) continue
      if (existing !== undefined)
        throw new Error(`indexer "${name}" is already registered with another function`)
      this.indexers.set(name, fn)
      const index = new Map<string, Set<string>>()
      this.indices.set(name, index)
      for (const [key, obj] of this.items) this.fileUnder(name, fn, index, key, obj)
    }
  }

  private fileUnder(name: string, fn: IndexFunc<T>, index: Map<string, Set<string>>, key: string, obj: T) {
    const values = [...new Set(fn(obj))]
    for (const v of values) addTo(index, v, key)
    let perKey = this.filed.get(key)
    if (perKey === undefined) {
      perKey = new Map()
      this.filed.set(key, perKey)
    }
    perKey.set(name, values)
  }

  private unfile(key: string) {
    const perKey = this.filed.get(key)
    if (perKey === undefined) return
    for (const [name, values] of perKey) {
      const index = this.indices.get(name)
      if (index !== undefined) for (const v of values) removeFrom(index, v, key)
    }
    this.filed.delete(key)
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(key: string, obj: T): T | undefined {
    const old = this.items.get(key)
    if (old !== undefined) this.unfile(key)
    this.items.set(key, obj)
    addTo(this.byNamespace, refOfKey(key).namespace, key)
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)
      if (index !== undefined) this.fileUnder(name, fn, index, key, obj)
    }
    return old
  }

  /** Removes; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.items.get(key)
    if (old === undefined) return undefined
    this.unfile(key)
    this.items.delete(key)
    removeFrom(this.byNamespace, refOfKey(key).namespace, key)
    return old
  }

  markSynced(): void {
    this.synced = true
  }

  get = (key: string): T | undefined => this.items.get(key)
  getByName = (namespace: string, name: string): T | undefined =>
    this.items.get(namespace === "" ? name : `${namespace}/${name}`)
  list = (namespace?: string): ReadonlyArray<T> => {
    if (namespace === undefined) return [...this.items.values()]
    const keys = this.byNamespace.get(namespace)
    return keys === undefined ? [] : this.resolve(keys)
  }
  keys = (): ReadonlyArray<string> => [...this.items.keys()]
  keysByIndex = (index: string, value: string): ReadonlyArray<string> => {
    const idx = this.indices.get(index)
    if (idx === undefined) throw new Error(`no indexer named "${index}"`)
    return [...(idx.get(value) ?? [])]
  }
  byIndex = (index: string, value: string): ReadonlyArray<T> => this.resolve(this.keysByIndex(index, value))
  size = (): number => this.items.size
  hasSynced = (): boolean => this.synced

  private resolve(keys: Iterable<string>): ReadonlyArray<T> {
    const out: Array<T> = []
    for (const k of keys) {
      const o = this.items.get(k)
      if (o !== undefined) out.push(o)
    }
    return out
  }
}
