// Helpers of the end-to-end scenario (scenario.test.ts): kubectl as a user types it, the examples adapted
// to the test's namespace and cluster, and readiness as the status shows it.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { kubectl } from "../setup/context.ts"

export const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
export const OPENAI_IP = "203.0.113.30"
export const WAIT = { timeout: 90_000, interval: 500 } as const

export type Json = Record<string, unknown>
export interface Meta {
  readonly name: string
  readonly uid: string
  readonly generation?: number
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
  readonly deletionTimestamp?: string
  readonly ownerReferences?: ReadonlyArray<{
    readonly kind: string
    readonly uid: string
    readonly controller?: boolean
  }>
}
export interface Container {
  readonly name: string
  readonly image: string
  readonly restartPolicy?: string
  readonly env?: ReadonlyArray<{ readonly name: string; readonly value?: string }>
  readonly volumeMounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
}
export interface PodSpec {
  readonly containers: ReadonlyArray<Container>
  readonly initContainers?: ReadonlyArray<Container>
  readonly nodeName?: string
}
export interface Obj {
  readonly kind?: string
  readonly metadata: Meta
  readonly spec?: Json & { readonly template?: { readonly metadata?: Meta; readonly spec?: PodSpec } }
  readonly status?: Json & {
    readonly phase?: string
    readonly observedGeneration?: number
    readonly conditions?: ReadonlyArray<{
      type: string
      status: string
      reason?: string
      observedGeneration?: number
    }>
  }
  readonly data?: Record<string, string>
}
export interface Pod extends Obj {
  readonly spec: Json & PodSpec
}

// ---------------------------------------------------------------------------------------------------------
// kubectl, as a user types it

export const must = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
export const get = async <T = Obj>(kind: string, ns: string, name: string): Promise<T | undefined> => {
  const r = await kubectl(["get", kind, name, "-n", ns, "-o", "json"])
  if (r.exitCode !== 0) {
    if (r.stderr.includes("NotFound")) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as T
}
export const list = async <T = Obj>(kind: string, ns: string, selector?: string): Promise<ReadonlyArray<T>> =>
  (
    JSON.parse(
      await must(["get", kind, "-n", ns, "-o", "json", ...(selector === undefined ? [] : ["-l", selector])]),
    ) as { items: ReadonlyArray<T> }
  ).items
export const apply = (ns: string, objects: ReadonlyArray<Json>) =>
  must(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }))

// ---------------------------------------------------------------------------------------------------------
// the examples, adapted to the test's namespace and cluster name

export const example = (file: string): Json => parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json
export const withSpec = (obj: Json, spec: Json): Json => ({
  ...obj,
  spec: { ...(obj.spec as Json), ...spec },
})
/** `clusterRef: demo` → the test's LanguageCluster. */
export const member = (file: string, cluster: string): Json => {
  const obj = example(file)
  return (obj.spec as Json | undefined)?.clusterRef === "demo" ? withSpec(obj, { clusterRef: cluster }) : obj
}

export const envOf = (c: Container | undefined): Record<string, string | undefined> =>
  Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]))
export const condition = (o: Obj | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type)
/**
 * The generation the status was written for: `status.observedGeneration`; LanguageCluster's status schema
 * has no such field (docs/languagecluster.md §Status), so there it is the Ready condition's.
 */
export const observed = (o: Obj | undefined): number | undefined =>
  o?.kind === "LanguageCluster" ? condition(o, "Ready")?.observedGeneration : o?.status?.observedGeneration
/** Ready condition True, the kind's ready phase, and status written for the current generation. */
export const readyNow = (o: Obj | undefined, phase: string): boolean =>
  o !== undefined &&
  condition(o, "Ready")?.status === "True" &&
  o.status?.phase === phase &&
  observed(o) === o.metadata.generation
export const ready = (o: Obj | undefined) => ({
  ready: condition(o, "Ready"),
  phase: o?.status?.phase,
  observedGeneration: observed(o),
  generation: o?.metadata.generation,
})

export const podHash = (p: Obj) => p.metadata.labels?.["pod-template-hash"] ?? ""
export const isRunning = (p: Pod) =>
  p.status?.phase === "Running" && p.metadata.deletionTimestamp === undefined
export const sidecarOf = (p: Pod | undefined) =>
  p?.spec.initContainers?.find((c) => c.name === "tool-workspace-files")
