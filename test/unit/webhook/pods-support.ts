// Running the Pod handler in unit tests: answer a review and read the patched Pod back.
import { Effect, JsonPatch, type Schema } from "effect"
import { mutatePod, type ToolLookup } from "../../../src/webhook/pods.ts"
import type { AdmissionRequest, AdmissionResponse } from "../../../src/webhook/review.ts"
import { podRequest } from "./pods-fixtures.ts"

export interface Answer {
  readonly response: AdmissionResponse
  /** The decoded JSON Patch (empty when none). */
  readonly patch: JsonPatch.JsonPatch
  /** The Pod with the patch applied (the Pod itself when there is none or on a deny). */
  readonly pod: Record<string, unknown>
}

export const answer = <E>(
  lookup: ToolLookup<E>,
  pod: unknown,
  overrides: Parameters<typeof podRequest>[1] = {},
) => answerRequest(lookup, podRequest(pod, overrides))

export const answerRequest = <E>(lookup: ToolLookup<E>, request: AdmissionRequest): Answer => {
  const pod = request.object
  const response = Effect.runSync(mutatePod(lookup)(request))
  const patch: JsonPatch.JsonPatch =
    response.patch === undefined ? [] : JSON.parse(Buffer.from(response.patch, "base64").toString("utf8"))
  const patched =
    patch.length === 0 ? pod : JsonPatch.apply(patch, JSON.parse(JSON.stringify(pod)) as Schema.Json)
  return { response, patch, pod: patched as Record<string, unknown> } satisfies Answer
}

/** The message lines of a deny. */
export const denyLines = (response: AdmissionResponse): ReadonlyArray<string> =>
  (response.status?.message ?? "").split("\n")

type Obj = Record<string, unknown>
const obj = (value: unknown): Obj => (typeof value === "object" && value !== null ? (value as Obj) : {})
const arr = (value: unknown): Array<Obj> => (Array.isArray(value) ? (value as Array<Obj>) : [])

export const specOf = (pod: unknown): Obj => obj(obj(pod).spec)
export const initContainersOf = (pod: unknown): Array<Obj> => arr(specOf(pod).initContainers)
export const containersOf = (pod: unknown): Array<Obj> => arr(specOf(pod).containers)
export const volumesOf = (pod: unknown): Array<Obj> => arr(specOf(pod).volumes)
export const annotationsOf = (pod: unknown): Obj => obj(obj(obj(pod).metadata).annotations)
export const names = (entries: ReadonlyArray<Obj>): ReadonlyArray<unknown> => entries.map((e) => e.name)

/**
 * What the API server does to a Pod between a webhook patch and the re-invocation: core/v1 defaults on
 * containers and volumes, quantities in canonical form, and the re-run ServiceAccount plugin's token
 * mount on every container (as observed on the test control plane). Enough of it to show that the
 * webhook's second answer is a no-op.
 */
export const apiServerDefaults = (pod: Obj): Obj => {
  const tokenMount = {
    name: "kube-api-access-x1",
    readOnly: true,
    mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
  }
  const container = (c: Obj): Obj => ({
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    resources: {},
    ...c,
    volumeMounts: [...arr(c.volumeMounts).filter((m) => m.name !== tokenMount.name), tokenMount],
    ...(c.readinessProbe === undefined ? {} : { readinessProbe: probe(obj(c.readinessProbe)) }),
    ...(c.startupProbe === undefined ? {} : { startupProbe: probe(obj(c.startupProbe)) }),
    ...(c.resources === undefined ? {} : { resources: resources(obj(c.resources)) }),
  })
  const probe = (p: Obj): Obj => ({
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
    ...p,
    ...(p.httpGet === undefined ? {} : { httpGet: { scheme: "HTTP", ...obj(p.httpGet) } }),
  })
  const resources = (r: Obj): Obj => {
    const canonical = (q: Obj) =>
      Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v === "0.5" ? "500m" : v]))
    const limits = r.limits === undefined ? undefined : canonical(obj(r.limits))
    const requests = r.requests === undefined ? undefined : canonical(obj(r.requests))
    return {
      ...r,
      ...(limits === undefined ? {} : { limits }),
      ...(limits === undefined && requests === undefined ? {} : { requests: { ...limits, ...requests } }),
    }
  }
  const volume = (v: Obj): Obj => ({
    ...v,
    ...(v.secret === undefined ? {} : { secret: { defaultMode: 420, ...obj(v.secret) } }),
    ...(v.configMap === undefined ? {} : { configMap: { defaultMode: 420, ...obj(v.configMap) } }),
  })
  const spec = specOf(pod)
  return {
    ...pod,
    spec: {
      ...spec,
      initContainers: initContainersOf(pod).map(container),
      containers: containersOf(pod).map(container),
      volumes: [
        ...volumesOf(pod)
          .map(volume)
          .filter((v) => v.name !== "kube-api-access-x1"),
        { name: "kube-api-access-x1", projected: { defaultMode: 420, sources: [] } },
      ],
    },
  }
}
