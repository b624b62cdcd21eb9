/**
 * The handler table: which admission handler answers which path, for which kind and operations.
 *
 * It is the one source of truth for the server's routes (`server.ts`) and for the generated
 * webhook configurations (`configurations.ts`), so a route and its registration cannot drift apart.
 * The handlers themselves are pure functions supplied by the caller as a {@link HandlerSet}
 * (`main.ts` wires the real ones); this module holds no handler logic.
 *
 * Endpoints and operations follow docs/admission.md §Endpoints:
 * - `/mutate/<plural>`  — CREATE, UPDATE (defaulting, as a JSON Patch)
 * - `/validate/<plural>` — CREATE, UPDATE, plus DELETE for languagepersonas
 * - `/mutate/pods`      — CREATE of Pods labelled `langop.io/kind: LanguageAgent` (sidecar injection)
 * Only the main resource is registered, never a subresource such as `/status`.
 */
import { GROUP, VERSION } from "../api/shared.ts"
import type { AdmissionHandler, Operation } from "./review.ts"

/** Kind → plural for the six kinds of `langop.io/v1alpha1`. */
export const LangopPlurals = {
  LanguageCluster: "languageclusters",
  LanguageAgent: "languageagents",
  LanguageTool: "languagetools",
  LanguageModel: "languagemodels",
  LanguagePersona: "languagepersonas",
  LanguageClient: "languageclients",
} as const
export type LangopKind = keyof typeof LangopPlurals
export const langopKinds = Object.keys(LangopPlurals) as ReadonlyArray<LangopKind>

export type WebhookType = "mutating" | "validating"

/** One row of the table. */
export interface HandlerEntry<R = never> {
  /** URL path the server answers on, e.g. `/validate/languageagents`. */
  readonly path: `/${string}`
  /** Webhook name in the generated configuration (fully qualified, unique per configuration). */
  readonly name: string
  readonly type: WebhookType
  /** The object kind this endpoint accepts; other kinds are denied. */
  readonly kind: LangopKind | "Pod"
  readonly group: string
  readonly version: string
  readonly resource: string
  readonly operations: ReadonlyArray<Operation>
  readonly handler: AdmissionHandler<R>
}

export type HandlerTable<R = never> = ReadonlyArray<HandlerEntry<R>>

/** The two handlers of one of our kinds. */
export interface KindHandlers<R = never> {
  readonly mutate: AdmissionHandler<R>
  readonly validate: AdmissionHandler<R>
}

/** Everything the table needs: both handlers for each of the six kinds, and Pod injection. */
export type HandlerSet<R = never> = { readonly [K in LangopKind]: KindHandlers<R> } & {
  readonly Pod: { readonly mutate: AdmissionHandler<R> }
}

/** Operations per endpoint (docs/admission.md §Endpoints). */
export const operationsFor = (type: WebhookType, kind: LangopKind | "Pod"): ReadonlyArray<Operation> => {
  if (kind === "Pod") return ["CREATE"]
  if (type === "validating" && kind === "LanguagePersona") return ["CREATE", "UPDATE", "DELETE"]
  return ["CREATE", "UPDATE"]
}

const verb = (type: WebhookType) => (type === "mutating" ? "mutate" : "validate")

const langopEntry = <R>(
  kind: LangopKind,
  type: WebhookType,
  handler: AdmissionHandler<R>,
): HandlerEntry<R> => {
  const resource = LangopPlurals[kind]
  return {
    path: `/${verb(type)}/${resource}`,
    name: `${verb(type)}.${resource}.${GROUP}`,
    type,
    kind,
    group: GROUP,
    version: VERSION,
    resource,
    operations: operationsFor(type, kind),
    handler,
  }
}

/** The full table, in a stable order: per kind mutate then validate, then the Pod webhook. */
export const handlerTable = <R>(set: HandlerSet<R>): HandlerTable<R> => [
  ...langopKinds.flatMap((kind) => [
    langopEntry(kind, "mutating", set[kind].mutate),
    langopEntry(kind, "validating", set[kind].validate),
  ]),
  {
    path: "/mutate/pods",
    name: `mutate.pods.${GROUP}`,
    type: "mutating",
    kind: "Pod",
    group: "",
    version: "v1",
    resource: "pods",
    operations: operationsFor("mutating", "Pod"),
    handler: set.Pod.mutate,
  },
]
