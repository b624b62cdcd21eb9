/**
 * Building blocks shared by the six kinds of `langop.io/v1alpha1`.
 *
 * Conventions every kind file follows (the CRD generator in `src/crd/` depends on them):
 * - Optional fields are `Schema.optionalKey(...)` (never `Schema.optional`, which admits `undefined` and
 *   turns into `anyOf [X, null]` in JSON Schema).
 * - Schema defaults use {@link withDefault}: the value is applied when decoding AND emitted as the CRD
 *   `default`, so the API server and our decoder agree.
 * - Patterns carry the `u` flag (without it Effect leaves them out of the JSON Schema).
 * - Numbers are `Schema.Int` or `Schema.Finite` (never `Schema.Number`, which admits NaN).
 * - Kubernetes markers are annotations with their literal OpenAPI key (`x-kubernetes-list-type`, …);
 *   CEL "schema rules" are the `x-kubernetes-validations` annotation built with {@link celRules}.
 * - Every field has a `description`; that text is what `kubectl explain` shows.
 */
import { Effect, Schema } from "effect"

import { LabelSelector } from "./k8s/index.ts"

export const GROUP = "langop.io"
export const VERSION = "v1alpha1"
export const API_VERSION = `${GROUP}/${VERSION}`

// ---------------------------------------------------------------------------------------------------------
// Annotation helpers

/** A field with a schema default: optional on input, always present after decoding, `default` in the CRD. */
export const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) => {
  // `annotate` rebuilds the same schema with one more annotation; TypeScript only sees `S["Rebuild"]`.
  // The annotation must sit on the inner schema: put on the outer key it is lost in the JSON Schema.
  const annotated = schema.annotate({ default: value }) as unknown as S
  return Schema.withDecodingDefaultKey<S>(Effect.succeed(value))(annotated)
}

/** Attach a `description` (shown by `kubectl explain`). */
export const described = <S extends Schema.Top>(schema: S, description: string): S["Rebuild"] =>
  schema.annotate({ description })

/** An optional field with its description (`Schema.optionalKey`, never `Schema.optional`). */
export const optional = <S extends Schema.Top>(schema: S, description: string) =>
  Schema.optionalKey(described(schema, description))

/** A boolean with a schema default; the description states the default. */
export const flag = (value: boolean, description: string) =>
  withDefault(described(Schema.Boolean, `${description} Default ${value}.`), value)

/** An optional list of strings. */
export const strings = (description: string) => optional(Schema.Array(Schema.String), description)

/** One CEL rule as the API server expects it in `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string
  readonly message: string
  /** `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`. */
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate"
  /** JSON path relative to the annotated node, for the error's field path (e.g. `.minReplicas`). */
  readonly fieldPath?: string
  /** Transition rules (`oldSelf`) that must also run when the old value is absent. */
  readonly optionalOldSelf?: boolean
}

/** Annotation carrying CEL schema rules; spread into `.annotate({...})`. */
export const celRules = (rules: ReadonlyArray<CelRule>) => ({ "x-kubernetes-validations": rules })

/** `x-kubernetes-list-type: map` keyed by `keys` (server-side apply merges items by these keys). */
export const listMap = (...keys: ReadonlyArray<string>) => ({
  "x-kubernetes-list-type": "map" as const,
  "x-kubernetes-list-map-keys": keys,
})
export const listSet = { "x-kubernetes-list-type": "set" as const }
export const listAtomic = { "x-kubernetes-list-type": "atomic" as const }

// ---------------------------------------------------------------------------------------------------------
// Scalars

export const NonEmptyString = Schema.String.check(Schema.isMinLength(1))
export const Int32 = Schema.Int.check(
  Schema.isBetween({ minimum: -2147483648, maximum: 2147483647 }),
).annotate({
  format: "int32",
})
export const Int64 = Schema.Int.annotate({ format: "int64" })
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export const PortNumber = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })).annotate({
  format: "int32",
})
/** `map[string]string` (labels, annotations, node selectors). */
export const StringMap = Schema.Record(Schema.String, Schema.String)
/** RFC 3339 timestamp as stored by the API server. */
export const DateTime = Schema.String.annotate({ format: "date-time" })

/** `^[0-9]+(ns|us|µs|ms|s|m|h)$`: one integer and one unit (docs/concepts.md §1; µ is U+00B5). Parse with {@link parseDuration}. */
export const DURATION_PATTERN = /^[0-9]+(ns|us|µs|ms|s|m|h)$/u
export const Duration = Schema.String.check(Schema.isPattern(DURATION_PATTERN))

const DURATION_UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/**
 * Duration string → milliseconds (docs/concepts.md X-6). Accepts U+03BC `μs` besides the schema's U+00B5 `µs`.
 * Returns `undefined` for anything else ("1h30m", "1.5s"), so callers must decide what invalid means.
 */
export const parseDuration = (value: string): number | undefined => {
  const match = /^([0-9]+)(ns|us|µs|μs|ms|s|m|h)$/u.exec(value)
  if (match === null) return undefined
  const [, amount, unit] = match
  const factor = unit === undefined ? undefined : DURATION_UNIT_MS[unit]
  return amount === undefined || factor === undefined ? undefined : Number(amount) * factor
}

// ---------------------------------------------------------------------------------------------------------
// Conditions (metav1.Condition)

const CONDITION_TYPE_PATTERN =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/u
const CONDITION_REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/u

export const Condition = Schema.Struct({
  type: described(
    Schema.String.check(Schema.isMaxLength(316), Schema.isPattern(CONDITION_TYPE_PATTERN)),
    "Type of condition in CamelCase, e.g. Ready.",
  ),
  status: described(
    Schema.Literals(["True", "False", "Unknown"]),
    "Status of the condition: True, False or Unknown.",
  ),
  observedGeneration: Schema.optionalKey(
    described(
      Int64.check(Schema.isGreaterThanOrEqualTo(0)),
      "The .metadata.generation that the condition was set based upon.",
    ),
  ),
  lastTransitionTime: described(DateTime, "Last time the condition transitioned from one status to another."),
  reason: described(
    Schema.String.check(
      Schema.isMinLength(1),
      Schema.isMaxLength(1024),
      Schema.isPattern(CONDITION_REASON_PATTERN),
    ),
    "Programmatic identifier for the condition's last transition, in CamelCase.",
  ),
  message: described(
    Schema.String.check(Schema.isMaxLength(32768)),
    "Human readable message with details about the transition.",
  ),
}).annotate({
  description: "Condition contains details for one aspect of the current state of this resource.",
})
export type Condition = typeof Condition.Type

/** `status.conditions` as a list-map keyed by `type` (every kind except LanguageCluster). */
export const Conditions = described(
  Schema.Array(Condition).annotate(listMap("type")),
  "Current state of the resource as standard conditions; Ready summarises the others.",
)
/** `status.conditions` as a plain list (LanguageCluster's published schema; changing it would change its merge semantics). */
export const ConditionsPlainList = described(
  Schema.Array(Condition),
  "Current state of the resource as conditions.",
)

// ---------------------------------------------------------------------------------------------------------
// References (docs/concepts.md §8)

const refNamespace = (target: string) =>
  Schema.optionalKey(
    described(
      Schema.String,
      `Namespace of the ${target}; the admission webhook sets it to the referring object's namespace when empty.`,
    ),
  )

export const ServiceReference = Schema.Struct({
  name: described(Schema.String, "Name of the Service."),
  namespace: refNamespace("Service"),
}).annotate({ description: "Reference to a Kubernetes Service." })
export type ServiceReference = typeof ServiceReference.Type

export const SecretReference = Schema.Struct({
  name: described(Schema.String, "Name of the Secret."),
  namespace: Schema.optionalKey(
    described(
      Schema.String,
      "Namespace of the Secret. Pods can only read Secrets of their own namespace, so any other namespace is rejected (docs/concepts.md X-3).",
    ),
  ),
  key: withDefault(described(Schema.String, "Key within the Secret."), "api-key"),
}).annotate({ description: "Reference to a key of a Secret in the owner's namespace." })
export type SecretReference = typeof SecretReference.Type

export const ModelReference = Schema.Struct({
  name: described(Schema.String, "Name of the LanguageModel."),
  namespace: refNamespace("LanguageModel"),
  role: withDefault(
    described(
      Schema.Literals(["primary", "fallback", "reasoning", "tool-calling", "summarization"]),
      "Role of the model for the referring resource.",
    ),
    "primary",
  ),
  priority: Schema.optionalKey(
    described(Int32, "Priority among models of the same role; lower is higher priority."),
  ),
}).annotate({ description: "Reference to a LanguageModel." })
export type ModelReference = typeof ModelReference.Type

export const ToolReference = Schema.Struct({
  name: described(Schema.String, "Name of the LanguageTool."),
  namespace: refNamespace("LanguageTool"),
  enabled: withDefault(described(Schema.Boolean, "Whether the tool is offered to the agent."), true),
  requireApproval: withDefault(
    described(Schema.Boolean, "Whether calls of this tool need human approval."),
    false,
  ),
}).annotate({ description: "Reference to a LanguageTool." })
export type ToolReference = typeof ToolReference.Type

export const PersonaReference = Schema.Struct({
  name: described(Schema.String, "Name of the LanguagePersona."),
  namespace: refNamespace("LanguagePersona"),
}).annotate({ description: "Reference to a LanguagePersona." })
export type PersonaReference = typeof PersonaReference.Type

// ---------------------------------------------------------------------------------------------------------
// Egress rules (docs/concepts.md §8, §9)

export const NetworkPort = Schema.Struct({
  protocol: withDefault(described(Schema.Literals(["TCP", "UDP", "SCTP"]), "Protocol of the port."), "TCP"),
  port: described(PortNumber, "Port number, 1-65535."),
}).annotate({ description: "A destination port." })
export type NetworkPort = typeof NetworkPort.Type

export const NetworkPeer = Schema.Struct({
  group: Schema.optionalKey(
    described(
      Schema.String,
      "Pods labelled langop.io/group=<group> in the same namespace (set it via podLabels).",
    ),
  ),
  cidr: Schema.optionalKey(
    described(Schema.String, "One IPv4 or IPv6 CIDR, or a bare address (normalised to /32 or /128)."),
  ),
  dns: Schema.optionalKey(
    described(
      Schema.Array(Schema.String),
      "Host names, each an RFC 1123 name with at most one leading '*.' wildcard label, or '*' alone for anywhere. Names are resolved by the operator; a wildcard allows only the apex's addresses.",
    ),
  ),
  service: Schema.optionalKey(
    described(ServiceReference, "A Kubernetes Service; its pods (or endpoints) are allowed."),
  ),
  namespaceSelector: Schema.optionalKey(
    described(LabelSelector, "Namespaces whose pods are allowed (AND podSelector)."),
  ),
  podSelector: Schema.optionalKey(described(LabelSelector, "Pods that are allowed (AND namespaceSelector).")),
}).annotate({ description: "A network destination (or, in `from`, a source that is ignored on egress)." })
export type NetworkPeer = typeof NetworkPeer.Type

export const NetworkRule = Schema.Struct({
  description: Schema.optionalKey(described(Schema.String, "Free text.")),
  from: Schema.optionalKey(described(NetworkPeer, "Meaningless on an egress rule; ignored with a warning.")),
  to: Schema.optionalKey(described(NetworkPeer, "Destination of the rule; a rule without `to` is skipped.")),
  ports: Schema.optionalKey(
    described(Schema.Array(NetworkPort), "Ports allowed to the destinations; empty means all ports."),
  ),
}).annotate({ description: "One egress rule of the resource's NetworkPolicy." })
export type NetworkRule = typeof NetworkRule.Type

export const Egress = described(
  Schema.Array(NetworkRule),
  "Egress allowed to the workload's pods beyond the defaults (same namespace, cluster DNS, referenced models and tools). Everything else is denied.",
)

// ---------------------------------------------------------------------------------------------------------
// Workload helpers shared by tools and clients

/**
 * A schema rule defined once for every place that enforces it: the CRD carries `rule` as CEL (so it
 * holds while the webhook is bypassed), the webhook and the controllers call `violated`, which must
 * mean exactly what the CEL says (test/unit/api/shared-rules.test.ts evaluates both on the same
 * values).
 */
export interface SharedRule<T> extends CelRule {
  readonly violated: (value: T) => boolean
}

const celRuleOf = <T>({ violated: _, ...rule }: SharedRule<T>): CelRule => rule

export const PodDisruptionBudgetOneOf: SharedRule<{
  readonly minAvailable?: number | undefined
  readonly maxUnavailable?: number | undefined
}> = {
  rule: "!(has(self.minAvailable) && has(self.maxUnavailable))",
  message: "set at most one of minAvailable and maxUnavailable",
  violated: (pdb) => pdb.minAvailable !== undefined && pdb.maxUnavailable !== undefined,
}

export const RollingUpdateOnlyWithItsType: SharedRule<{
  readonly type?: string | undefined
  readonly rollingUpdate?: unknown
}> = {
  rule: "!has(self.rollingUpdate) || !has(self.type) || self.type == 'RollingUpdate'",
  message: "rollingUpdate is only allowed with type RollingUpdate",
  violated: (strategy) =>
    strategy.rollingUpdate !== undefined && strategy.type !== undefined && strategy.type !== "RollingUpdate",
}

export const AutoscalerBounds: SharedRule<{
  readonly minReplicas?: number | undefined
  readonly maxReplicas?: number | undefined
}> = {
  rule: "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
  message: "minReplicas must be less than or equal to maxReplicas",
  fieldPath: ".minReplicas",
  violated: (hpa) =>
    hpa.minReplicas !== undefined && hpa.maxReplicas !== undefined && hpa.minReplicas > hpa.maxReplicas,
}

export const PodDisruptionBudgetSpec = Schema.Struct({
  minAvailable: Schema.optionalKey(
    described(Int32, "Pods that must stay available during voluntary disruptions."),
  ),
  maxUnavailable: Schema.optionalKey(
    described(Int32, "Pods that may be unavailable during voluntary disruptions."),
  ),
}).annotate({
  description: "PodDisruptionBudget for the workload; set at most one of minAvailable and maxUnavailable.",
  ...celRules([celRuleOf(PodDisruptionBudgetOneOf)]),
})

export const UpdateStrategySpec = Schema.Struct({
  type: withDefault(
    described(Schema.Literals(["RollingUpdate", "Recreate"]), "Deployment strategy type."),
    "RollingUpdate",
  ),
  rollingUpdate: Schema.optionalKey(
    described(
      Schema.Struct({
        maxUnavailable: Schema.optionalKey(
          described(Int32, "Pods that may be unavailable during the update."),
        ),
        maxSurge: Schema.optionalKey(described(Int32, "Pods that may be created above the desired count.")),
      }),
      "Rolling update parameters; only with type RollingUpdate.",
    ),
  ),
}).annotate({
  description: "How the workload's Deployment replaces pods.",
  ...celRules([celRuleOf(RollingUpdateOnlyWithItsType)]),
})

export const HorizontalPodAutoscalerSpec = Schema.Struct({
  enabled: withDefault(described(Schema.Boolean, "Create a HorizontalPodAutoscaler."), false),
  minReplicas: withDefault(
    described(Int32.check(Schema.isGreaterThanOrEqualTo(1)), "Lower replica bound."),
    2,
  ),
  maxReplicas: withDefault(
    described(Int32.check(Schema.isGreaterThanOrEqualTo(1)), "Upper replica bound."),
    10,
  ),
  targetCPUUtilizationPercentage: Schema.optionalKey(
    described(Int32, "Target average CPU utilisation in percent."),
  ),
  targetMemoryUtilizationPercentage: Schema.optionalKey(
    described(Int32, "Target average memory utilisation in percent."),
  ),
  customMetrics: Schema.optionalKey(
    described(
      Schema.Array(
        Schema.Struct({
          name: described(Schema.String, "Metric name."),
          type: described(Schema.Literals(["Pods", "Object", "External"]), "Metric source type."),
          target: described(Schema.String, "Target value (a quantity, e.g. 100 or 500m)."),
        }),
      ),
      "Additional metrics to scale on.",
    ),
  ),
}).annotate({
  description: "Horizontal pod autoscaling of the workload.",
  ...celRules([celRuleOf(AutoscalerBounds)]),
})

// ---------------------------------------------------------------------------------------------------------
// Object envelope

/** Metadata as far as the operator reads it; every other key is kept as-is. */
export const ObjectMeta = Schema.StructWithRest(
  Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    generateName: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    uid: Schema.optionalKey(Schema.String),
    resourceVersion: Schema.optionalKey(Schema.String),
    generation: Schema.optionalKey(Schema.Int),
    creationTimestamp: Schema.optionalKey(Schema.String),
    deletionTimestamp: Schema.optionalKey(Schema.String),
    labels: Schema.optionalKey(StringMap),
    annotations: Schema.optionalKey(StringMap),
    finalizers: Schema.optionalKey(Schema.Array(Schema.String)),
    ownerReferences: Schema.optionalKey(
      Schema.Array(
        Schema.StructWithRest(
          Schema.Struct({
            apiVersion: Schema.String,
            kind: Schema.String,
            name: Schema.String,
            uid: Schema.String,
            controller: Schema.optionalKey(Schema.Boolean),
            blockOwnerDeletion: Schema.optionalKey(Schema.Boolean),
          }),
          [Schema.Record(Schema.String, Schema.Unknown)],
        ),
      ),
    ),
  }),
  [Schema.Record(Schema.String, Schema.Unknown)],
)
export type ObjectMeta = typeof ObjectMeta.Type

export interface PrinterColumn {
  readonly name: string
  readonly type: "string" | "integer" | "number" | "boolean" | "date"
  readonly jsonPath: string
  readonly description?: string
  readonly priority?: number
}

/**
 * Everything the CRD generator, the client and the webhook need to know about one kind. Each kind file
 * exports one of these, built with {@link defineKind}.
 */
export interface KindDefinition<Spec extends Schema.Top, Status extends Schema.Top> {
  readonly kind: string
  readonly plural: string
  readonly singular: string
  readonly listKind: string
  readonly shortNames: ReadonlyArray<string>
  readonly scope: "Namespaced" | "Cluster"
  readonly description: string
  readonly printerColumns: ReadonlyArray<PrinterColumn>
  /** docs/concepts.md X-1: `spec` is required on every kind except LanguageCluster. */
  readonly specRequired: boolean
  readonly spec: Spec
  readonly status: Status
}

const resourceFields = <Spec extends Schema.Top, Status extends Schema.Top>(
  definition: KindDefinition<Spec, Status>,
) => ({
  apiVersion: Schema.Literal(API_VERSION),
  kind: Schema.Literal(definition.kind),
  metadata: ObjectMeta,
  status: Schema.optionalKey(definition.status),
})

/** A kind whose `spec` is required (docs/concepts.md X-1: every kind but LanguageCluster). */
export const defineKind = <Spec extends Schema.Top, Status extends Schema.Top>(
  definition: KindDefinition<Spec, Status> & { readonly specRequired: true },
) => ({
  ...definition,
  resource: Schema.Struct({ ...resourceFields(definition), spec: definition.spec }),
})

/** A kind whose `spec` may be absent (LanguageCluster: its spec has no required content). */
export const defineKindWithOptionalSpec = <Spec extends Schema.Top, Status extends Schema.Top>(
  definition: KindDefinition<Spec, Status> & { readonly specRequired: false },
) => ({
  ...definition,
  resource: Schema.Struct({ ...resourceFields(definition), spec: Schema.optionalKey(definition.spec) }),
})
