/**
 * The part of kustomize our `deploy/` tree uses, so the Helm chart can be generated from exactly what
 * `kubectl apply -k` installs without running kubectl: `resources` (files and directories), `components`
 * and `patches` given by `path` (strategic merge patches of a named object).
 *
 * Guarantees: pure apart from `read`; any other kustomization field, patch form or list without a known
 * merge key is an error naming it, never a silent difference from what kustomize renders (the chart tests
 * compare the two with the real tools). YAML is read as Kubernetes reads it (YAML 1.1: `0440` is octal).
 */
import { posix } from "node:path"
import { parse, parseAllDocuments } from "yaml"

export type Obj = Record<string, unknown>
export type Read = (path: string) => string | undefined

/** Strategic-merge keys of the lists our patches touch (as in the Kubernetes API's patchMergeKey). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  env: "name",
  volumeMounts: "mountPath",
  volumes: "name",
  ports: "containerPort",
}

const KNOWN_FIELDS = new Set(["apiVersion", "kind", "resources", "components", "patches"])

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v)

const yamlDocs = (text: string, path: string): Array<Obj> =>
  parseAllDocuments(text, { version: "1.1" }).flatMap((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message}`)
    const o: unknown = d.toJS()
    return isObject(o) ? [o] : []
  })

/** Strategic merge of `patch` into `target` (a new object). */
export const strategicMerge = (target: unknown, patch: unknown, field = ""): unknown => {
  if (isObject(target) && isObject(patch)) {
    const out: Obj = { ...target }
    for (const [k, v] of Object.entries(patch)) out[k] = k in target ? strategicMerge(target[k], v, k) : v
    return out
  }
  if (Array.isArray(target) && Array.isArray(patch)) {
    const key = MERGE_KEYS[field]
    if (key === undefined) throw new Error(`kustomize subset: no merge key known for list "${field}"`)
    // As kustomize orders them: the patch's new items first, then the target's (merged where matched).
    const matches = (a: unknown, b: unknown) => isObject(a) && isObject(b) && a[key] === b[key]
    return [
      ...patch.filter((item) => !target.some((t) => matches(t, item))),
      ...target.map((t) => {
        const item = patch.find((p) => matches(t, p))
        return item === undefined ? t : strategicMerge(t, item)
      }),
    ]
  }
  return patch
}

const fileDocs = (path: string, read: Read): Array<Obj> => {
  const text = read(path)
  if (text === undefined) throw new Error(`${path}: no such file`)
  return yamlDocs(text, path)
}

const sameTarget = (a: Obj, b: Obj) => {
  const am = (a.metadata ?? {}) as Obj
  const bm = (b.metadata ?? {}) as Obj
  return (
    a.kind === b.kind && am.name === bm.name && (bm.namespace === undefined || am.namespace === bm.namespace)
  )
}

const kustomizationOf = (dir: string, read: Read): Obj => {
  const text = read(posix.join(dir, "kustomization.yaml"))
  if (text === undefined) throw new Error(`${dir}: no kustomization.yaml`)
  const k = parse(text, { version: "1.1" }) as Obj
  for (const key of Object.keys(k))
    if (!KNOWN_FIELDS.has(key))
      throw new Error(
        `${dir}/kustomization.yaml: field "${key}" is not supported by src/operator/kustomize.ts`,
      )
  return k
}

const strings = (v: unknown, what: string): Array<string> => {
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
    throw new Error(`${what} must be a list of paths`)
  return v
}

/**
 * The objects `kubectl kustomize <dir>` renders, in kustomize's resource order, except those of resource
 * files `skip` names (a caller that takes them from elsewhere need not parse them: the CRDs are large).
 */
export const kustomize = (
  dir: string,
  read: Read,
  skip: (file: string) => boolean = () => false,
): Array<Obj> => {
  const k = kustomizationOf(dir, read)
  const load = (path: string): Array<Obj> => {
    const full = posix.normalize(posix.join(dir, path))
    if (skip(full)) return []
    const text = read(full)
    return text !== undefined ? yamlDocs(text, full) : kustomize(full, read, skip)
  }
  let objects = strings(k.resources, `${dir}: resources`).flatMap(load)
  const applyPatches = (base: string, patches: unknown) => {
    if (patches === undefined) return
    if (!Array.isArray(patches)) throw new Error(`${base}: patches must be a list`)
    for (const p of patches) {
      if (!isObject(p) || typeof p.path !== "string" || Object.keys(p).length !== 1)
        throw new Error(`${base}: only \`patches: [{path}]\` is supported by src/operator/kustomize.ts`)
      const full = posix.join(base, p.path)
      for (const patch of fileDocs(full, read)) {
        const at = objects.findIndex((o) => sameTarget(o, patch))
        if (at === -1) throw new Error(`${full}: no ${String(patch.kind)} to patch`)
        objects[at] = strategicMerge(objects[at], patch) as Obj
      }
    }
  }
  for (const c of strings(k.components, `${dir}: components`)) {
    const cdir = posix.normalize(posix.join(dir, c))
    const component = kustomizationOf(cdir, read)
    objects = [
      ...objects,
      ...strings(component.resources, `${cdir}: resources`).flatMap((r) =>
        fileDocs(posix.join(cdir, r), read),
      ),
    ]
    applyPatches(cdir, component.patches)
  }
  applyPatches(dir, k.patches)
  return objects
}
