/**
 * Our sidecars as the API server hands them back when it re-invokes the Pod webhook
 * (`reinvocationPolicy: IfNeeded`): defaulted (core/v1 `SetDefaults_*`: `terminationMessagePath`,
 * probe timings, `defaultMode`s, requests copied from limits, `500m` for `0.5`, …) and extended by
 * the built-in admission plugins that the API server re-runs in that round (ServiceAccount appends
 * its token mount to every container; LimitRanger fills in resources).
 *
 * - {@link sameContainer} / {@link sameVolume}: equal once both sides carry the defaults. Applying a
 *   default the API server would not apply is harmless (both sides get it); a default missing here
 *   only costs a redundant, correct patch.
 * - {@link mergeContainer}: the container we build, keeping what others added to the entry it
 *   replaces (fields we do not set, mounts at other paths, env vars of other names, resources of
 *   other names), so a re-invocation never strips another plugin's work (LimitRanger's validation
 *   would then reject the Pod) and, when nothing of ours changed, answers with no patch.
 */
import { canonicalJson } from "../domain/hash.ts"

type Obj = { readonly [key: string]: unknown }

const isObj = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const withDefaults = (value: unknown, defaults: Obj): unknown =>
  isObj(value) ? { ...defaults, ...value } : value

const mapKey = (obj: Obj, key: string, f: (value: unknown) => unknown): Obj =>
  obj[key] === undefined ? obj : { ...obj, [key]: f(obj[key]) }

const mapArray = (value: unknown, f: (item: unknown) => unknown): unknown =>
  Array.isArray(value) ? value.map(f) : value

// ---------------------------------------------------------------------------------------------
// Quantities

const quantityPattern =
  /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+|E[+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/u
const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 }
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b))

/** A quantity as an exact reduced fraction `num/den`, so `0.5`, `500m` and `0.5e0` compare equal. */
export const canonicalQuantity = (value: unknown): unknown => {
  if (typeof value !== "string" && typeof value !== "number") return value
  const match = quantityPattern.exec(String(value).trim())
  if (match === null) return value
  const [, sign = "", digits = "", suffix = ""] = match
  const [whole = "", fraction = ""] = digits.split(".")
  let num = BigInt(`${whole}${fraction}` || "0")
  let den = 10n ** BigInt(fraction.length)
  const binaryPower = binary[suffix]
  const decimalPower = /^[eE][+-]?[0-9]+$/u.test(suffix) ? Number(suffix.slice(1)) : decimal[suffix]
  if (binaryPower !== undefined) num *= 1024n ** BigInt(binaryPower)
  else if (decimalPower !== undefined && decimalPower >= 0) num *= 10n ** BigInt(decimalPower)
  else if (decimalPower !== undefined) den *= 10n ** BigInt(-decimalPower)
  const divisor = gcd(num, den)
  if (num === 0n) return "0/1"
  return `${sign === "-" ? "-" : ""}${num / divisor}/${den / divisor}`
}

const canonicalQuantities = (value: unknown): unknown =>
  isObj(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonicalQuantity(v)])) : value

// ---------------------------------------------------------------------------------------------
// Containers

const fieldRefDefaults = (value: unknown): unknown =>
  isObj(value) ? mapKey(value, "fieldRef", (f) => withDefaults(f, { apiVersion: "v1" })) : value

const handlerDefaults = (value: unknown): unknown =>
  isObj(value) ? mapKey(value, "httpGet", (h) => withDefaults(h, { path: "/", scheme: "HTTP" })) : value

const probeDefaults = (value: unknown): unknown =>
  isObj(value)
    ? mapKey(
        handlerDefaults(
          withDefaults(value, {
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          }),
        ) as Obj,
        "grpc",
        (g) => withDefaults(g, { service: "" }),
      )
    : value

const resourcesDefaults = (value: unknown): unknown => {
  if (!isObj(value)) return value
  const limits = canonicalQuantities(value.limits)
  const requests = canonicalQuantities(value.requests)
  // Requests default to the limits for every resource that has a limit but no request.
  const merged = isObj(limits) ? { ...limits, ...(isObj(requests) ? requests : {}) } : requests
  return {
    ...value,
    ...(limits === undefined ? {} : { limits }),
    ...(merged === undefined ? {} : { requests: merged }),
  }
}

/** A core/v1 Container (init or regular) with the API server's defaults applied. */
export const containerDefaults = (value: unknown): unknown => {
  if (!isObj(value)) return value
  let c: Obj = withDefaults(value, {
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    // Stored Pods always carry `resources`, `{}` when nothing was asked for.
    resources: {},
  }) as Obj
  c = mapKey(c, "ports", (ports) => mapArray(ports, (p) => withDefaults(p, { protocol: "TCP" })))
  c = mapKey(c, "env", (env) =>
    mapArray(env, (e) => (isObj(e) ? mapKey(e, "valueFrom", fieldRefDefaults) : e)),
  )
  c = mapKey(c, "resources", resourcesDefaults)
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) c = mapKey(c, probe, probeDefaults)
  c = mapKey(c, "lifecycle", (l) =>
    isObj(l) ? mapKey(mapKey(l, "postStart", handlerDefaults), "preStop", handlerDefaults) : l,
  )
  return c
}

// ---------------------------------------------------------------------------------------------
// Volumes

const fileMode = 0o644

const downwardItems = (value: unknown): unknown =>
  isObj(value) ? mapKey(value, "items", (items) => mapArray(items, fieldRefDefaults)) : value

const projectionDefaults = (value: unknown): unknown => {
  if (!isObj(value)) return value
  let p = mapKey(value, "downwardAPI", downwardItems)
  p = mapKey(p, "serviceAccountToken", (t) => withDefaults(t, { expirationSeconds: 3600 }))
  return p
}

/** A core/v1 Volume with the API server's defaults applied. */
export const volumeDefaults = (value: unknown): unknown => {
  if (!isObj(value)) return value
  let v = value
  v = mapKey(v, "secret", (s) => withDefaults(s, { defaultMode: fileMode }))
  v = mapKey(v, "configMap", (s) => withDefaults(s, { defaultMode: fileMode }))
  v = mapKey(v, "downwardAPI", (s) => downwardItems(withDefaults(s, { defaultMode: fileMode })))
  v = mapKey(v, "projected", (s) => {
    const p = withDefaults(s, { defaultMode: fileMode })
    return isObj(p) ? mapKey(p, "sources", (sources) => mapArray(sources, projectionDefaults)) : p
  })
  v = mapKey(v, "hostPath", (s) => withDefaults(s, { type: "" }))
  v = mapKey(v, "emptyDir", (s) => (isObj(s) ? mapKey(s, "sizeLimit", canonicalQuantity) : s))
  return v
}

/** Whether two containers are the same once both carry the API server's defaults. */
export const sameContainer = (a: unknown, b: unknown): boolean =>
  canonicalJson(containerDefaults(a)) === canonicalJson(containerDefaults(b))

/** Whether two volumes are the same once both carry the API server's defaults. */
export const sameVolume = (a: unknown, b: unknown): boolean =>
  canonicalJson(volumeDefaults(a)) === canonicalJson(volumeDefaults(b))

const entriesNotIn = (existing: unknown, ours: unknown, key: string): ReadonlyArray<unknown> => {
  if (!Array.isArray(existing)) return []
  const taken = new Set(
    (Array.isArray(ours) ? ours : []).flatMap((item) =>
      isObj(item) && typeof item[key] === "string" ? [item[key]] : [],
    ),
  )
  return existing.filter((item) => !(isObj(item) && typeof item[key] === "string" && taken.has(item[key])))
}

const mergeRecords = (existing: unknown, ours: unknown): unknown =>
  isObj(existing) && isObj(ours) ? { ...existing, ...ours } : (ours ?? existing)

/**
 * `ours` (the container we build) over `existing` (the entry of the same name it replaces): our
 * fields win; the entry's other fields, its volume mounts at other paths, env vars of other names and
 * resource entries of other names are kept (after ours). Returns `existing` itself when the result
 * equals it modulo API defaults, so an unchanged sidecar gives no patch.
 */
export const mergeContainer = (existing: unknown, ours: unknown): unknown => {
  if (!isObj(existing) || !isObj(ours)) return ours
  const mounts = [
    ...(Array.isArray(ours.volumeMounts) ? ours.volumeMounts : []),
    ...entriesNotIn(existing.volumeMounts, ours.volumeMounts, "mountPath"),
  ]
  const env = [...(Array.isArray(ours.env) ? ours.env : []), ...entriesNotIn(existing.env, ours.env, "name")]
  const oursResources = isObj(ours.resources) ? ours.resources : {}
  const existingResources = isObj(existing.resources) ? existing.resources : {}
  const resources = {
    ...existingResources,
    ...oursResources,
    ...(existingResources.limits === undefined && oursResources.limits === undefined
      ? {}
      : { limits: mergeRecords(existingResources.limits, oursResources.limits) }),
    ...(existingResources.requests === undefined && oursResources.requests === undefined
      ? {}
      : { requests: mergeRecords(existingResources.requests, oursResources.requests) }),
  }
  const merged: Obj = {
    ...existing,
    ...ours,
    ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
    ...(env.length === 0 ? {} : { env }),
    ...(Object.keys(resources).length === 0 ? {} : { resources }),
  }
  return sameContainer(existing, merged) ? existing : merged
}

/** `existing` itself when it equals `ours` modulo API defaults, else `ours`. */
export const mergeVolume = (existing: unknown, ours: unknown): unknown =>
  sameVolume(existing, ours) ? existing : ours
