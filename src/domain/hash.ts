/**
 * Deterministic hashing of inputs a pod reads only at start (`langop.io/config-hash`, docs/concepts.md §4).
 * Guarantee: equal values hash equally regardless of object key order; arrays keep their order.
 */
import { createHash } from "node:crypto"

/** JSON with object keys sorted recursively and `undefined` members dropped (README "JSON" convention). */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export const configHash = (value: unknown): string =>
  createHash("sha256").update(canonicalJson(value)).digest("hex")
