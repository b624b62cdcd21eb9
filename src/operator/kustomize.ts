/**
 * The part of kustomize our `deploy/` tree uses, so the Helm chart can be generated from exactly what
 * `kubectl apply -k` installs without running kubectl: `resources` (files and directories), `components`,
 * `patches` given by `path` (strategic merge patches of a named object), and `vars` whose `fieldref` is a
 * dotted path, substituted at the `varReference` paths the `configurations` files list.
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

const KNOWN_FIELDS = new Set([
  "apiVersion",
  "kind",
  "resources",
  "components",
  "patches",
  "vars",
  "configurations",
])

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
  const componentDirs = strings(k.components, `${dir}: components`).map((c) =>
    posix.normalize(posix.join(dir, c)),
  )
  const withVars = [
    { base: dir, k },
    ...componentDirs.map((cdir) => ({ base: cdir, k: kustomizationOf(cdir, read) })),
  ]
  return substituteVars(
    objects,
    withVars.flatMap(({ base, k: kz }) => varsOf(base, kz)),
    withVars.flatMap(({ base, k: kz }) =>
      strings(kz.configurations, `${base}: configurations`).flatMap((c) =>
        varReferencesOf(posix.join(base, c), read),
      ),
    ),
  )
}

interface Var {
  readonly name: string
  readonly kind: string
  readonly objectName: string
  readonly fieldPath: string
}

interface VarReference {
  readonly kind: string
  readonly path: ReadonlyArray<string>
}

const varsOf = (dir: string, k: Obj): Array<Var> => {
  if (k.vars === undefined) return []
  if (!Array.isArray(k.vars)) throw new Error(`${dir}: vars must be a list`)
  return k.vars.map((v) => {
    const objref = isObject(v) && isObject(v.objref) ? v.objref : undefined
    const fieldpath = isObject(v) && isObject(v.fieldref) ? v.fieldref.fieldpath : undefined
    if (
      !isObject(v) ||
      typeof v.name !== "string" ||
      objref === undefined ||
      typeof objref.kind !== "string" ||
      typeof objref.name !== "string" ||
      typeof fieldpath !== "string"
    )
      throw new Error(`${dir}: a var needs name, objref.kind, objref.name and fieldref.fieldpath`)
    return { name: v.name, kind: objref.kind, objectName: objref.name, fieldPath: fieldpath }
  })
}

const varReferencesOf = (path: string, read: Read): Array<VarReference> =>
  fileDocs(path, read).flatMap((doc) =>
    (Array.isArray(doc.varReference) ? doc.varReference : []).map((r: unknown) => {
      if (!isObject(r) || typeof r.kind !== "string" || typeof r.path !== "string")
        throw new Error(`${path}: a varReference needs kind and path`)
      return { kind: r.kind, path: r.path.split("/") }
    }),
  )

const valueAt = (o: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), o)

/** `$(NAME)` replaced in the strings (or string lists) at `path`, lists traversed on the way. */
const replaceAt = (node: unknown, path: ReadonlyArray<string>, replace: (s: string) => string): unknown => {
  if (Array.isArray(node)) return node.map((item) => replaceAt(item, path, replace))
  if (path.length === 0) {
    if (typeof node === "string") return replace(node)
    if (isObject(node))
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, typeof v === "string" ? replace(v) : v]),
      )
    return node
  }
  const [head = "", ...rest] = path
  return isObject(node) && head in node ? { ...node, [head]: replaceAt(node[head], rest, replace) } : node
}

const substituteVars = (objects: Array<Obj>, vars: ReadonlyArray<Var>, refs: ReadonlyArray<VarReference>) => {
  if (vars.length === 0) return objects
  const values = new Map(
    vars.map((v) => {
      const target = objects.find(
        (o) => o.kind === v.kind && (o.metadata as Obj | undefined)?.name === v.objectName,
      )
      const value = valueAt(target, v.fieldPath.split("."))
      if (typeof value !== "string")
        throw new Error(`var ${v.name}: ${v.kind}/${v.objectName} has no ${v.fieldPath}`)
      return [v.name, value] as const
    }),
  )
  const replace = (s: string) =>
    s.replaceAll(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => values.get(name) ?? m)
  const out = objects.map((o) =>
    refs.filter((r) => r.kind === o.kind).reduce<Obj>((acc, r) => replaceAt(acc, r.path, replace) as Obj, o),
  )
  const left = JSON.stringify(out).match(new RegExp(`\\$\\((${[...values.keys()].join("|")})\\)`))
  if (left !== null) throw new Error(`kustomize subset: ${left[0]} is used outside the varReference paths`)
  return out
}
