/**
 * A tiny canonical YAML emitter for the LiteLLM configuration (docs/languagemodel.md §LiteLLM: "byte-stable
 * for equal input"). PURE.
 *
 * Why not a YAML library: LiteLLM reads its config with PyYAML, which implements YAML 1.1. There a plain
 * `on`, `yes` or `2025-01-01` is a boolean or a date, and a float such as `1e-7` (no dot) stays a string.
 * This emitter removes both hazards by construction: every string is double-quoted (JSON escapes are
 * valid YAML double-quoted escapes), and every non-integer number is written with a dot.
 *
 * Guarantees: the output depends only on the value (object keys in insertion order — callers build
 * objects in a fixed order and sort user maps); `undefined` members are dropped; empty maps and lists
 * are `{}` and `[]`; the text ends with a newline.
 * Assumption: numbers are finite (the API schemas admit no NaN or Infinity).
 */

export type YamlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | ReadonlyArray<YamlValue>
  | { readonly [key: string]: YamlValue }

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/u
/** Keys PyYAML would read as something other than a string even though they match PLAIN_KEY. */
const YAML11_KEYWORDS = new Set(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"])

const key = (k: string): string =>
  PLAIN_KEY.test(k) && !YAML11_KEYWORDS.has(k.toLowerCase()) ? k : JSON.stringify(k)

/** A number as PyYAML (YAML 1.1) reads it back as the same int or float. */
export const yamlNumber = (n: number): string => {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`)
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n)
  const s = String(n)
  if (s.includes(".")) return s
  // `1e-7` → `1.0e-7`; YAML 1.1 floats need a dot and a signed exponent.
  const [mantissa, exponent = "0"] = s.split("e")
  const signed = exponent.startsWith("-") || exponent.startsWith("+") ? exponent : `+${exponent}`
  return `${mantissa}.0e${signed}`
}

const scalar = (v: string | number | boolean | null): string => {
  if (v === null) return "null"
  if (typeof v === "boolean") return v ? "true" : "false"
  if (typeof v === "number") return yamlNumber(v)
  return JSON.stringify(v)
}

const isMap = (v: YamlValue): v is { readonly [key: string]: YamlValue } =>
  typeof v === "object" && v !== null && !Array.isArray(v)

const entriesOf = (v: { readonly [key: string]: YamlValue }) =>
  Object.entries(v).filter(([, x]) => x !== undefined)

/** Lines of `v` at `indent` when `v` is a non-empty collection; otherwise the inline scalar form. */
const block = (v: YamlValue, indent: string): ReadonlyArray<string> => {
  if (Array.isArray(v)) {
    const items = (v as ReadonlyArray<YamlValue>).filter((x) => x !== undefined)
    return items.flatMap((item) => {
      const nested = block(item, `${indent}  `)
      if (!isCollection(item)) return [`${indent}- ${inline(item)}`]
      const [first = "", ...rest] = nested
      return [`${indent}- ${first.slice(indent.length + 2)}`, ...rest]
    })
  }
  if (isMap(v))
    return entriesOf(v).flatMap(([k, x]) =>
      isCollection(x)
        ? [`${indent}${key(k)}:`, ...block(x, `${indent}  `)]
        : [`${indent}${key(k)}: ${inline(x)}`],
    )
  return [`${indent}${inline(v)}`]
}

const isCollection = (v: YamlValue): boolean =>
  (Array.isArray(v) && v.some((x) => x !== undefined)) || (isMap(v) && entriesOf(v).length > 0)

const inline = (v: YamlValue): string => {
  if (Array.isArray(v)) return "[]"
  if (isMap(v)) return "{}"
  return scalar((v ?? null) as string | number | boolean | null)
}

/** The YAML text of `value` (a document whose root is normally a map). */
export const toYaml = (value: YamlValue): string =>
  isCollection(value) ? `${block(value, "").join("\n")}\n` : `${inline(value)}\n`
