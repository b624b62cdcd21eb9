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
import { operatorKeyFindings } from "./forbidden-keys.ts"
import {
  type HandlerSet,
  type HandlerTable,
  handlerTable,
  type KindHandlers,
  type LangopKind,
} from "./handlers.ts"
import { isObject, type KindAdmission, mutatingHandler, validatingHandler } from "./kinds/common.ts"
import { agentAdmission } from "./kinds/languageagent.ts"
import { clientAdmission } from "./kinds/languageclient.ts"
import { clusterAdmission } from "./kinds/languagecluster.ts"
import { modelAdmission } from "./kinds/languagemodel.ts"
import { personaAdmission } from "./kinds/languagepersona.ts"
import { toolAdmission } from "./kinds/languagetool.ts"
import { WebhookLookup } from "./lookup.ts"
import { podSecurityFindings, sidecarPodOnlyFindings } from "./pod-security.ts"
import { mutatePod } from "./pods.ts"
import type { AdmissionHandler } from "./review.ts"
import { authorizeSidecars } from "./sidecar-authorization.ts"

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

const specOf = (object: unknown): Readonly<Record<string, unknown>> => {
  const spec = isObject(object) ? object.spec : undefined
  return isObject(spec) ? spec : {}
}

const stringMapAt = (spec: Readonly<Record<string, unknown>>, key: string) => {
  const value = spec[key]
  return isObject(value)
    ? Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      )
    : undefined
}

/**
 * The kind's own validation plus the rules every kind with a pod template shares: the operator's
 * `langop.io/` keys stay out of `podAnnotations`/`podLabels` (forbidden-keys.ts), and security
 * values the restricted standard forbids follow the namespace's Pod Security level
 * (pod-security.ts). Kinds without those fields find nothing.
 */
export const withPodTemplateRules = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
): KindAdmission<S> => ({
  ...admission,
  validate: (input) =>
    Effect.gen(function* () {
      const spec = specOf(input.object)
      const own = yield* admission.validate(input)
      const security = yield* podSecurityFindings(spec, input.namespace, input.lookup.namespace)
      return [
        ...own,
        ...operatorKeyFindings({
          podAnnotations: stringMapAt(spec, "podAnnotations"),
          podLabels: stringMapAt(spec, "podLabels"),
        }),
        ...security,
        ...sidecarPodOnlyFindings(spec),
      ]
    }),
})

const handlersOf = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  options: ValidationOptions,
): KindHandlers<WebhookLookup> => ({
  mutate: mutatingHandler(admission),
  validate: (request) =>
    Effect.flatMap(WebhookLookup, (lookup) =>
      validatingHandler(withPodTemplateRules(admission), lookup, options)(request),
    ),
})

/**
 * `/mutate/pods`: sidecar injection behind its authorisation gate (the Pod's creator and its agent's
 * live toolRefs must back the listed tools); agents and tools resolved through the lookup.
 */
export const podHandler: AdmissionHandler<WebhookLookup> = authorizeSidecars(
  (namespace, name) => Effect.flatMap(WebhookLookup, (lookup) => lookup.agent(namespace, name)),
  mutatePod((namespace, name) => Effect.flatMap(WebhookLookup, (lookup) => lookup.tool(namespace, name))),
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
