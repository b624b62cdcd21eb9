/**
 * The vocabulary of validation rules shared by admission (src/webhook) and reconcile
 * (src/controllers): a rule catalog per kind (stable ids such as `languageagent/schedule`), findings
 * at Kubernetes field paths, and the checks every kind applies (Secret namespaces, the restricted Pod
 * Security fields). Pure: no I/O, no Effect services, so a controller can re-run exactly the rules the
 * webhook denies for objects that were stored without it.
 */

export type FieldPath = ReadonlyArray<string | number>

const plainSegment = /^[A-Za-z_$][A-Za-z0-9_$]*$/u

/** `["spec", "egress", 1, "to"]` → `spec.egress[1].to`; keys that are not identifiers → `[key]`. */
export const formatFieldPath = (path: FieldPath): string =>
  path
    .map((segment, i) => {
      if (typeof segment === "number") return `[${segment}]`
      if (plainSegment.test(segment)) return i === 0 ? segment : `.${segment}`
      return `[${segment}]`
    })
    .join("")

// ---------------------------------------------------------------------------------------------
// Rules and findings

export type Severity = "deny" | "warn"

/** One admission rule: a stable id (`languageagent/schedule`), its effect, and what it says. */
export interface Rule {
  readonly id: string
  readonly severity: Severity
  readonly text: string
}

export interface RuleDefinition {
  readonly severity: Severity
  readonly text: string
}

/** A catalog of rules; ids are `<prefix>/<key>`. */
export const defineRules = <const T extends Readonly<Record<string, RuleDefinition>>>(
  prefix: string,
  rules: T,
): { readonly [K in keyof T]: Rule } =>
  Object.fromEntries(
    Object.entries(rules).map(([key, rule]) => [key, { id: `${prefix}/${key}`, ...rule }]),
  ) as { readonly [K in keyof T]: Rule }

/** One broken rule (deny) or notice (warn) at a field path. */
export interface Finding {
  readonly rule: string
  readonly severity: Severity
  readonly path: string
  readonly message: string
}

export const finding = (rule: Rule, path: string | FieldPath, message: string): Finding => ({
  rule: rule.id,
  severity: rule.severity,
  path: typeof path === "string" ? path : formatFieldPath(path),
  message,
})

/** Rules every kind applies. */
export const CommonRules = defineRules("common", {
  schema: {
    severity: "deny",
    text: "the object matches the kind's schema (types, enums, bounds, patterns, required fields)",
  },
  secretNamespace: {
    severity: "deny",
    text: "a Secret reference names no other namespace than the object's own (docs/concepts.md X-3)",
  },
  missingReference: {
    severity: "warn",
    text: "a referenced object that does not exist (yet) is reported, never denied",
  },
  lookupFailed: {
    severity: "warn",
    text: "a reference that cannot be checked now is reported; the controller checks it again",
  },
})

export interface ValidationOptions {
  /** Operator setting `LANGOP_DEFAULT_CLIENT_ISSUER`: LanguageClient TLS may then omit its issuer. */
  readonly defaultClientIssuer?: string | undefined
}

/** docs/concepts.md X-3: a Secret reference with a non-empty namespace other than the owner's. */
export const secretNamespaceFindings = (
  ref: { readonly name: string; readonly namespace?: string | undefined } | undefined,
  path: FieldPath,
  namespace: string,
): ReadonlyArray<Finding> =>
  ref?.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace
    ? [
        finding(
          CommonRules.secretNamespace,
          [...path, "namespace"],
          `Secret "${ref.namespace}/${ref.name}" is in another namespace than this object ("${namespace}"); Pods can only use Secrets of their own namespace`,
        ),
      ]
    : []

/** The namespace a reference points into: its own, or (empty or absent) the referring object's. */
export const nsOr = (ref: { readonly namespace?: string | undefined }, namespace: string): string =>
  ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : namespace
