/**
 * `WebhookLookup`: the read access the admission handlers have to other objects (LanguageTools,
 * LanguageModels, LanguagePersonas, LanguageAgents, Secrets, Namespaces), answered from the operator's informer
 * caches (docs/admission.md: "Answers come from the informer cache; a cache miss may fall back to one
 * live GET").
 *
 * Guarantees:
 * - `tool`/`model`/`persona`/`agent`/`secret` return the cached object; on a miss (object absent,
 *   or the cache not yet synced) exactly one live GET is made, bounded by {@link LIVE_READ_TIMEOUT};
 *   404 is `undefined`, every other failure a {@link LookupError} (callers decide: the kind
 *   validators turn it into a warning, the Pod webhook into a denial).
 * - The list queries (`personasInheritingFrom`, `agentsUsingPersona`) read the cache once it has
 *   synced, and list live before that.
 * - Objects are the decoded kinds (schema defaults applied), shared with the controllers: never
 *   mutate them. A live object that does not decode is a `LookupError` naming the problem.
 * - No writes, ever (`sideEffects: None`).
 * Assumption: the informer sources are the shared ones of `runtime/sources.ts`, so the
 * webhook and the controllers share one informer (and one cache) per kind.
 */
import { Context, Duration, Effect, Layer, Result, Schema } from "effect"
import { LanguageAgent } from "../api/languageagent.ts"
import { LanguageModel } from "../api/languagemodel.ts"
import { LanguagePersona } from "../api/languagepersona.ts"
import { LanguageTool } from "../api/languagetool.ts"
import { KubeClient, type KubeClientShape } from "../kube/client.ts"
import { type Decoder, decodeObject } from "../kube/decode.ts"
import { describeError, isKubeError } from "../kube/errors.ts"
import type { KubeObject } from "../kube/objects.ts"
import type { ResourceDescriptor } from "../kube/resources.ts"
import type { CacheReader } from "../runtime/cache.ts"
import type { InformerSource } from "../runtime/informer.ts"
import { Informers, type InformersShape } from "../runtime/informers.ts"
import {
  agentSource,
  modelSource,
  namespaceSource,
  personaSource,
  secretSource,
  toolSource,
} from "../runtime/sources.ts"

/** A live read behind a cache miss must leave room in the API server's 5 s webhook timeout. */
export const LIVE_READ_TIMEOUT = Duration.seconds(2)

export class LookupError extends Schema.TaggedError<LookupError>()("LookupError", {
  /** `LanguageTool`, `Secret`, … */
  kind: Schema.String,
  /** `namespace/name`, or a description of the list that failed. */
  key: Schema.String,
  message: Schema.String,
}) {}

type Get<T> = (namespace: string, name: string) => Effect.Effect<T | undefined, LookupError>

export interface WebhookLookupShape {
  readonly tool: Get<LanguageTool>
  readonly model: Get<LanguageModel>
  readonly persona: Get<LanguagePersona>
  readonly agent: Get<LanguageAgent>
  /** Existence of a Secret (its data is never needed). */
  readonly secret: Get<KubeObject>
  /** A Namespace by name (its labels: the Pod Security Admission level). */
  readonly namespace: (name: string) => Effect.Effect<KubeObject | undefined, LookupError>
  /** Personas (any namespace) whose `spec.parentPersona` resolves to `namespace/name`. */
  readonly personasInheritingFrom: (
    namespace: string,
    name: string,
  ) => Effect.Effect<ReadonlyArray<LanguagePersona>, LookupError>
  /** Agents (any namespace) whose `spec.personaRef` resolves to `namespace/name`. */
  readonly agentsUsingPersona: (
    namespace: string,
    name: string,
  ) => Effect.Effect<ReadonlyArray<LanguageAgent>, LookupError>
}

export class WebhookLookup extends Context.Service<WebhookLookup, WebhookLookupShape>()(
  "langop/webhook/WebhookLookup",
) {}

// ---------------------------------------------------------------------------------------------
// Reference resolution shared by every implementation

const refersTo = (
  ref: { readonly name: string; readonly namespace?: string | undefined } | undefined,
  ownNamespace: string | undefined,
  namespace: string,
  name: string,
): boolean =>
  ref !== undefined &&
  ref.name === name &&
  (ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : ownNamespace) === namespace

const inheritsFrom = (namespace: string, name: string) => (p: LanguagePersona) =>
  refersTo(p.spec.parentPersona, p.metadata.namespace, namespace, name)

const usesPersona = (namespace: string, name: string) => (a: LanguageAgent) =>
  refersTo(a.spec.personaRef, a.metadata.namespace, namespace, name)

// ---------------------------------------------------------------------------------------------
// Live reads

const lookupError = (kind: string, key: string) => (error: unknown) =>
  new LookupError({
    kind,
    key,
    message: isKubeError(error)
      ? describeError(error)
      : error instanceof Error
        ? error.message
        : String(error),
  })

const decodeWith = <T>(
  decode: Decoder<T> | undefined,
  kind: string,
  key: string,
  raw: KubeObject,
): Effect.Effect<T, LookupError> => {
  if (decode === undefined) return Effect.succeed(raw as T)
  const decoded = decode(raw)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(new LookupError({ kind, key, message: `cannot be decoded: ${decoded.failure.join("; ")}` }))
}

const liveGet =
  <T>(client: KubeClientShape, resource: ResourceDescriptor, decode: Decoder<T> | undefined): Get<T> =>
  (namespace, name) => {
    const key = `${namespace}/${name}`
    return client.get(resource, { namespace, name }).pipe(
      Effect.timeoutOrElse({
        duration: LIVE_READ_TIMEOUT,
        orElse: () => Effect.fail(new Error(`no answer within ${Duration.format(LIVE_READ_TIMEOUT)}`)),
      }),
      Effect.map((raw): KubeObject | undefined => raw),
      Effect.catchTag("NotFound", () => Effect.succeed(undefined)),
      Effect.mapError(lookupError(resource.kind, key)),
      Effect.flatMap((raw) =>
        raw === undefined ? Effect.succeed(undefined) : decodeWith(decode, resource.kind, key, raw),
      ),
    )
  }

const liveList = <T>(
  client: KubeClientShape,
  resource: ResourceDescriptor,
  decode: Decoder<T> | undefined,
): Effect.Effect<ReadonlyArray<T>, LookupError> =>
  client.listAll(resource).pipe(
    Effect.timeoutOrElse({
      duration: LIVE_READ_TIMEOUT,
      orElse: () => Effect.fail(new Error(`no answer within ${Duration.format(LIVE_READ_TIMEOUT)}`)),
    }),
    Effect.mapError(lookupError(resource.kind, "(all namespaces)")),
    Effect.map((list) =>
      list.items.flatMap((raw) => {
        if (decode === undefined) return [raw as T]
        const decoded = decode(raw)
        // An undecodable object cannot inherit from or use anything we can see.
        return Result.isSuccess(decoded) ? [decoded.success] : []
      }),
    ),
  )

/** Every read a live GET (no cache): tests, tools, and processes without informers. */
export const makeLiveLookup = (client: KubeClientShape): WebhookLookupShape => ({
  tool: liveGet(client, toolSource.resource, toolSource.decode),
  model: liveGet(client, modelSource.resource, modelSource.decode),
  persona: liveGet(client, personaSource.resource, personaSource.decode),
  agent: liveGet(client, agentSource.resource, agentSource.decode),
  secret: liveGet(client, secretSource.resource, secretSource.decode),
  namespace: (name) => liveGet(client, namespaceSource.resource, namespaceSource.decode)("", name),
  personasInheritingFrom: (namespace, name) =>
    Effect.map(liveList(client, personaSource.resource, personaSource.decode), (all) =>
      all.filter(inheritsFrom(namespace, name)),
    ),
  agentsUsingPersona: (namespace, name) =>
    Effect.map(liveList(client, agentSource.resource, agentSource.decode), (all) =>
      all.filter(usesPersona(namespace, name)),
    ),
})

// ---------------------------------------------------------------------------------------------
// Cache first

const cachedGet =
  <T>(cache: CacheReader<T>, live: Get<T>): Get<T> =>
  (namespace, name) => {
    const hit = cache.getByName(namespace, name)
    return hit !== undefined ? Effect.succeed(hit) : live(namespace, name)
  }

const cachedList = <T>(
  cache: CacheReader<T>,
  live: Effect.Effect<ReadonlyArray<T>, LookupError>,
): Effect.Effect<ReadonlyArray<T>, LookupError> =>
  Effect.suspend(() => (cache.hasSynced() ? Effect.succeed(cache.list()) : live))

const register = <T>(informers: InformersShape, source: InformerSource<T>) =>
  Effect.map(informers.register(source), (informer) => informer.cache)

/** The operator's lookup: informer caches (registered here, shared with the controllers), live GET on a miss. */
export const layer: Layer.Layer<WebhookLookup, never, Informers | KubeClient> = Layer.effect(
  WebhookLookup,
  Effect.gen(function* () {
    const informers = yield* Informers
    const client = yield* KubeClient
    const live = makeLiveLookup(client)
    const tools = yield* register(informers, toolSource)
    const models = yield* register(informers, modelSource)
    const personas = yield* register(informers, personaSource)
    const agents = yield* register(informers, agentSource)
    const secrets = yield* register(informers, secretSource)
    const namespaces = yield* register(informers, namespaceSource)
    return WebhookLookup.of({
      tool: cachedGet(tools, live.tool),
      model: cachedGet(models, live.model),
      persona: cachedGet(personas, live.persona),
      agent: cachedGet(agents, live.agent),
      secret: cachedGet(secrets, live.secret),
      namespace: (name) => cachedGet(namespaces, (_, n) => live.namespace(n))("", name),
      personasInheritingFrom: (namespace, name) =>
        Effect.map(
          cachedList(personas, liveList(client, personaSource.resource, personaSource.decode)),
          (all) => all.filter(inheritsFrom(namespace, name)),
        ),
      agentsUsingPersona: (namespace, name) =>
        Effect.map(cachedList(agents, liveList(client, agentSource.resource, agentSource.decode)), (all) =>
          all.filter(usesPersona(namespace, name)),
        ),
    })
  }),
)

/** Live reads only (no informers): what the integration tests and one-off tools use. */
export const layerLive: Layer.Layer<WebhookLookup, never, KubeClient> = Layer.effect(
  WebhookLookup,
  KubeClient.useSync(makeLiveLookup),
)

// ---------------------------------------------------------------------------------------------
// In memory (unit tests, benchmarks)

const decoders: Readonly<Record<string, Decoder<unknown>>> = {
  LanguageTool: decodeObject(LanguageTool),
  LanguageModel: decodeObject(LanguageModel),
  LanguagePersona: decodeObject(LanguagePersona),
  LanguageAgent: decodeObject(LanguageAgent),
}

/**
 * A lookup over fixed objects (manifests as written: they are decoded here, so schema defaults
 * apply). Objects of other kinds than these six (and Namespaces) are ignored; an object that does not decode throws,
 * since that is a broken test fixture.
 */
export const makeLookupFromObjects = (objects: ReadonlyArray<KubeObject>): WebhookLookupShape => {
  const byKind = new Map<string, Map<string, unknown>>()
  for (const raw of objects) {
    const kind = raw.kind ?? ""
    const decode = decoders[kind]
    let value: unknown = raw
    if (decode !== undefined) {
      const decoded = decode(raw)
      if (Result.isFailure(decoded))
        throw new Error(`fixture ${kind} ${raw.metadata.name ?? ""}: ${decoded.failure.join("; ")}`)
      value = decoded.success
    } else if (kind !== "Secret" && kind !== "Namespace") continue
    const map = byKind.get(kind) ?? new Map<string, unknown>()
    map.set(`${raw.metadata.namespace ?? ""}/${raw.metadata.name ?? ""}`, value)
    byKind.set(kind, map)
  }
  const get =
    <T>(kind: string): Get<T> =>
    (namespace, name) =>
      Effect.succeed(byKind.get(kind)?.get(`${namespace}/${name}`) as T | undefined)
  const all = <T>(kind: string): ReadonlyArray<T> => [...(byKind.get(kind)?.values() ?? [])] as Array<T>
  return {
    tool: get("LanguageTool"),
    model: get("LanguageModel"),
    persona: get("LanguagePersona"),
    agent: get("LanguageAgent"),
    secret: get("Secret"),
    namespace: (name) => get<KubeObject>("Namespace")("", name),
    personasInheritingFrom: (namespace, name) =>
      Effect.succeed(all<LanguagePersona>("LanguagePersona").filter(inheritsFrom(namespace, name))),
    agentsUsingPersona: (namespace, name) =>
      Effect.succeed(all<LanguageAgent>("LanguageAgent").filter(usesPersona(namespace, name))),
  }
}

export const layerFromObjects = (objects: ReadonlyArray<KubeObject>): Layer.Layer<WebhookLookup> =>
  Layer.sync(WebhookLookup, () => makeLookupFromObjects(objects))
