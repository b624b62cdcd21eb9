/**
 * The admission handlers of the operator, wired into the handler table (handlers.ts): defaulting
 * and validation for the six kinds (kinds/*.ts) and sidecar injection for agent Pods (pods.ts).
 *
 * Every handler reads other objects only through {@link WebhookLookup} (informer caches, one live
 * GET on a miss), which the server layer takes from its context: `main.ts` builds
 * `server.layerFromSettings(yield* webhookTableFromSettings)` and provides `lookup.layer`.
 */
import { Effect, type Schema } from "effect"
import type { ValidationOptions } from "../domain/rules.ts"
import { Settings } from "../settings.ts"
import {
  type HandlerSet,
  type HandlerTable,
  handlerTable,
  type KindHandlers,
  type LangopKind,
} from "./handlers.ts"
import { type KindAdmission, mutatingHandler, validatingHandler } from "./kinds/common.ts"
import { agentAdmission } from "./kinds/languageagent.ts"
import { clientAdmission } from "./kinds/languageclient.ts"
import { clusterAdmission } from "./kinds/languagecluster.ts"
import { modelAdmission } from "./kinds/languagemodel.ts"
import { personaAdmission } from "./kinds/languagepersona.ts"
import { toolAdmission } from "./kinds/languagetool.ts"
import { WebhookLookup } from "./lookup.ts"
import { mutatePod } from "./pods.ts"
import type { AdmissionHandler } from "./review.ts"

export type { ValidationOptions } from "../domain/rules.ts"

/** Each kind's admission functions (pure; see kinds/common.ts `KindAdmission`). */
export const admissions = {
  LanguageCluster: clusterAdmission,
  LanguageAgent: agentAdmission,
  LanguageTool: toolAdmission,
  LanguageModel: modelAdmission,
  LanguagePersona: personaAdmission,
  LanguageClient: clientAdmission,
} as const satisfies { readonly [K in LangopKind]: unknown }

const handlersOf = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  options: ValidationOptions,
): KindHandlers<WebhookLookup> => ({
  mutate: mutatingHandler(admission),
  validate: (request) =>
    Effect.flatMap(WebhookLookup, (lookup) => validatingHandler(admission, lookup, options)(request)),
})

/** `/mutate/pods`: sidecar injection, tools resolved through the lookup. */
export const podHandler: AdmissionHandler<WebhookLookup> = mutatePod((namespace, name) =>
  Effect.flatMap(WebhookLookup, (lookup) => lookup.tool(namespace, name)),
)

/** Both handlers of every kind plus the Pod handler. */
export const makeHandlerSet = (options: ValidationOptions = {}): HandlerSet<WebhookLookup> => ({
  LanguageCluster: handlersOf(admissions.LanguageCluster, options),
  LanguageAgent: handlersOf(admissions.LanguageAgent, options),
  LanguageTool: handlersOf(admissions.LanguageTool, options),
  LanguageModel: handlersOf(admissions.LanguageModel, options),
  LanguagePersona: handlersOf(admissions.LanguagePersona, options),
  LanguageClient: handlersOf(admissions.LanguageClient, options),
  Pod: { mutate: podHandler },
})

/** The full handler table (routes and webhook configurations). */
export const webhookTable = (options: ValidationOptions = {}): HandlerTable<WebhookLookup> =>
  handlerTable(makeHandlerSet(options))

/** The table configured from the operator settings (`LANGOP_DEFAULT_CLIENT_ISSUER`). */
export const webhookTableFromSettings: Effect.Effect<
  HandlerTable<WebhookLookup>,
  never,
  Settings
> = Effect.map(Settings, (settings) => webhookTable({ defaultClientIssuer: settings.defaultClientIssuer }))
