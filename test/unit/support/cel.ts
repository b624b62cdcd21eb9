/**
 * Client-side evaluation of a CRD schema's `x-kubernetes-validations` rules with @bufbuild/cel, so every
 * CEL "schema rule" is tested against passing and failing objects without an API server. The same fixtures
 * are also applied to a real kube-apiserver in the integration tests.
 *
 * Semantics follow the API server closely enough for our rules: `self` is the value at the annotated node;
 * transition rules (those mentioning `oldSelf`) run only when an old value exists at that node (unless
 * `optionalOldSelf`); list-map items are correlated with old items by their map keys; JSON integers are
 * CEL `int`, other numbers `double`, objects `map`.
 */
import { type CelInput, isCelError, run } from "@bufbuild/cel"
import { strings } from "@bufbuild/cel/ext"

type Json = { [key: string]: unknown }
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

export interface CelViolation {
  readonly path: string
  readonly rule: string
  readonly message: string
}

const toCel = (value: unknown): CelInput => {
  if (Array.isArray(value)) return value.map(toCel)
  if (isObject(value)) return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]))
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value
  if (typeof value === "string" || typeof value === "boolean" || value === null) return value
  throw new Error(`cannot convert ${typeof value} to CEL`)
}

interface Rule {
  readonly rule: string
  readonly message?: string
  readonly optionalOldSelf?: boolean
}

const evaluateNode = (schema: Json, value: unknown, oldValue: unknown, path: string, out: CelViolation[]) => {
  const rules = (schema["x-kubernetes-validations"] ?? []) as ReadonlyArray<Rule>
  for (const { rule, message, optionalOldSelf } of rules) {
    const transition = /\boldSelf\b/u.test(rule)
    if (transition && oldValue === undefined && optionalOldSelf !== true) continue
    const bindings: Record<string, CelInput> = { self: toCel(value) }
    if (transition) bindings.oldSelf = toCel(oldValue ?? null)
    const result = run(rule, bindings, { funcs: strings })
    if (isCelError(result)) out.push({ path, rule, message: `error evaluating rule: ${result.message}` })
    else if (result !== true) out.push({ path, rule, message: message ?? `failed rule: ${rule}` })
  }
  if (isObject(schema.properties) && isObject(value)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      if (value[key] === undefined || !isObject(child)) continue
      const old = isObject(oldValue) ? oldValue[key] : undefined
      evaluateNode(child, value[key], old, path === "" ? key : `${path}.${key}`, out)
    }
  }
  if (isObject(schema.items) && Array.isArray(value)) {
    const keys = schema["x-kubernetes-list-map-keys"] as ReadonlyArray<string> | undefined
    value.forEach((item, index) => {
      const old =
        keys !== undefined && Array.isArray(oldValue) && isObject(item)
          ? oldValue.find((o) => isObject(o) && keys.every((k) => o[k] === item[k]))
          : undefined
      evaluateNode(schema.items as Json, item, old, `${path}[${index}]`, out)
    })
  }
  if (isObject(schema.additionalProperties) && isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const old = isObject(oldValue) ? oldValue[key] : undefined
      evaluateNode(schema.additionalProperties, item, old, `${path}[${JSON.stringify(key)}]`, out)
    }
  }
}

/** Every CEL violation of `object` (with `oldObject` for UPDATE transition rules) against a root schema. */
export const celViolations = (
  openAPIV3Schema: Json,
  object: unknown,
  oldObject?: unknown,
): CelViolation[] => {
  const out: CelViolation[] = []
  evaluateNode(openAPIV3Schema, object, oldObject, "", out)
  return out
}

/** Every rule in a schema with its path, so tests can check that each rule has a passing and failing fixture. */
export const celRulesOf = (schema: Json, path = ""): Array<{ path: string; rule: string }> => {
  const here = ((schema["x-kubernetes-validations"] ?? []) as ReadonlyArray<Rule>).map(({ rule }) => ({
    path,
    rule,
  }))
  const children: Array<{ path: string; rule: string }> = []
  if (isObject(schema.properties))
    for (const [k, v] of Object.entries(schema.properties))
      if (isObject(v)) children.push(...celRulesOf(v, path === "" ? k : `${path}.${k}`))
  if (isObject(schema.items)) children.push(...celRulesOf(schema.items, `${path}[]`))
  if (isObject(schema.additionalProperties))
    children.push(...celRulesOf(schema.additionalProperties, `${path}{}`))
  return [...here, ...children]
}

/** Values at a {@link celRulesOf} path (`a.b[].c`, `m{}`), so a passing fixture can be shown to reach a rule. */
export const valuesAt = (value: unknown, path: string): unknown[] => {
  if (path === "") return [value]
  const match = /^([^.[{]+)?(\[\]|\{\})?\.?(.*)$/u.exec(path)
  const [, key, marker, rest] = match ?? []
  let here: unknown[] = [value]
  if (key !== undefined) here = here.flatMap((v) => (isObject(v) && v[key] !== undefined ? [v[key]] : []))
  if (marker === "[]") here = here.flatMap((v) => (Array.isArray(v) ? v : []))
  if (marker === "{}") here = here.flatMap((v) => (isObject(v) ? Object.values(v) : []))
  return here.flatMap((v) => valuesAt(v, rest ?? ""))
}
