/**
 * Installing what an out-of-cluster operator needs in the cluster, and checking it without --install:
 * the CRDs (server-side apply, then Established), the operator namespace (leader-election Lease), and
 * the out-of-cluster webhook configurations (`clientConfig.url` → this process, dev CA as caBundle).
 *
 * Guarantees:
 * - installs are idempotent server-side applies under one field manager (`langop-install`), forced, so
 *   re-running `npm start -- --install` after a schema change updates the CRDs in place;
 * - a CRD counts as up to date when every field the generator sets (`spec.group`, `names`, `scope`,
 *   `versions`) is equal to the live one (the API server stores the schema verbatim; it only adds
 *   `conversion`), so the check names exactly the stale ones;
 * - removing the webhook configurations never fails on 404 (already gone is the goal).
 */
import { Effect, Schedule } from "effect"
import { allKinds } from "../api/index.ts"
import { crdFor, crdName } from "../crd/generate.ts"
import { KubeClient } from "../kube/client.ts"
import type { KubeError } from "../kube/errors.ts"
import type { KubeObject } from "../kube/objects.ts"
import { Builtin } from "../kube/resources.ts"
import {
  MutatingConfigurationName,
  ValidatingConfigurationName,
  type WebhookConfigurations,
} from "../webhook/configurations.ts"

export const InstallFieldManager = "langop-install"

export type CrdState = { readonly name: string; readonly state: "current" | "absent" | "stale" }

const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v !== null && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, x]) => [k, canonical(x)]),
        )
      : v

const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

/** The CRD objects the code generates (what `crds/` holds). */
export const desiredCrds = (): ReadonlyArray<KubeObject> =>
  allKinds.map((k) => crdFor(k) as unknown as KubeObject)

const specOf = (o: unknown): Record<string, unknown> =>
  ((o as { spec?: Record<string, unknown> } | undefined)?.spec ?? {}) as Record<string, unknown>

/** Whether the live CRD has every field the generator sets, with the generated value. */
export const crdIsCurrent = (desired: KubeObject, live: KubeObject): boolean => {
  const want = specOf(desired)
  const have = specOf(live)
  return Object.keys(want).every((k) => sameJson(want[k], have[k]))
}

const orUndefined = <A>(e: Effect.Effect<A, KubeError>): Effect.Effect<A | undefined, KubeError> =>
  Effect.catchTag(e, "NotFound", () => Effect.succeed(undefined))

/** Each generated CRD: current, absent or stale. */
export const crdStates: Effect.Effect<ReadonlyArray<CrdState>, KubeError, KubeClient> = Effect.gen(
  function* () {
    const client = yield* KubeClient
    return yield* Effect.forEach(allKinds, (kind) =>
      Effect.map(
        orUndefined(client.get(Builtin.CustomResourceDefinition, { name: crdName(kind) })),
        (live): CrdState => ({
          name: crdName(kind),
          state:
            live === undefined
              ? "absent"
              : crdIsCurrent(crdFor(kind) as unknown as KubeObject, live)
                ? "current"
                : "stale",
        }),
      ),
    )
  },
)

const isEstablished = (o: KubeObject) =>
  (
    (o as { status?: { conditions?: ReadonlyArray<{ type?: string; status?: string }> } }).status
      ?.conditions ?? []
  ).some((c) => c.type === "Established" && c.status === "True")

/** Applies every CRD and waits (≤ 60 s) until each is Established. */
export const installCrds: Effect.Effect<void, KubeError | Error, KubeClient> = Effect.gen(function* () {
  const client = yield* KubeClient
  for (const crd of desiredCrds()) {
    yield* client.apply(Builtin.CustomResourceDefinition, crd, {
      fieldManager: InstallFieldManager,
      force: true,
    })
  }
  yield* Effect.forEach(desiredCrds(), (crd) =>
    client.get(Builtin.CustomResourceDefinition, { name: crd.metadata.name ?? "" }).pipe(
      Effect.flatMap((live) =>
        isEstablished(live)
          ? Effect.void
          : Effect.fail(new Error(`CRD ${crd.metadata.name ?? ""} is not Established`)),
      ),
      Effect.retry({ schedule: Schedule.spaced("250 millis"), times: 240 }),
    ),
  )
})

/** Creates the namespace unless it exists (never modifies an existing one). */
export const ensureNamespace = (name: string): Effect.Effect<"created" | "existed", KubeError, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const live = yield* orUndefined(client.get(Builtin.Namespace, { name }))
    if (live !== undefined) return "existed"
    yield* client
      .create(Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name } })
      .pipe(Effect.catchTag("AlreadyExists", () => Effect.void))
    return "created"
  })

/** Applies both webhook configurations. */
export const installWebhookConfigurations = (
  configurations: WebhookConfigurations,
): Effect.Effect<void, KubeError, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const opts = { fieldManager: InstallFieldManager, force: true }
    yield* client.apply(
      Builtin.MutatingWebhookConfiguration,
      configurations.mutating as unknown as KubeObject,
      opts,
    )
    yield* client.apply(
      Builtin.ValidatingWebhookConfiguration,
      configurations.validating as unknown as KubeObject,
      opts,
    )
  })

/** Deletes both webhook configurations (absent is fine). */
export const removeWebhookConfigurations: Effect.Effect<void, KubeError, KubeClient> = Effect.gen(
  function* () {
    const client = yield* KubeClient
    const gone = (e: Effect.Effect<void, KubeError>) => Effect.catchTag(e, "NotFound", () => Effect.void)
    yield* gone(client.delete(Builtin.MutatingWebhookConfiguration, { name: MutatingConfigurationName }))
    yield* gone(client.delete(Builtin.ValidatingWebhookConfiguration, { name: ValidatingConfigurationName }))
  },
)

export type WebhookConfigurationState =
  | { readonly state: "current" }
  | { readonly state: "absent"; readonly names: ReadonlyArray<string> }
  | { readonly state: "different"; readonly names: ReadonlyArray<string> }

const webhooksOf = (o: unknown) =>
  ((o as { webhooks?: ReadonlyArray<Record<string, unknown>> } | undefined)?.webhooks ?? []).map((w) => ({
    name: w.name,
    clientConfig: w.clientConfig,
    rules: w.rules,
  }))

/**
 * Whether both configurations exist and register every webhook with the expected client config (URL
 * and CA) and rules, i.e. the API server will call this process with a CA it trusts.
 */
export const webhookConfigurationState = (
  expected: WebhookConfigurations,
): Effect.Effect<WebhookConfigurationState, KubeError, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const mutating = yield* orUndefined(
      client.get(Builtin.MutatingWebhookConfiguration, { name: MutatingConfigurationName }),
    )
    const validating = yield* orUndefined(
      client.get(Builtin.ValidatingWebhookConfiguration, { name: ValidatingConfigurationName }),
    )
    const absent = [
      ...(mutating === undefined ? [`MutatingWebhookConfiguration ${MutatingConfigurationName}`] : []),
      ...(validating === undefined ? [`ValidatingWebhookConfiguration ${ValidatingConfigurationName}`] : []),
    ]
    if (absent.length > 0) return { state: "absent", names: absent }
    const different = [
      ...(sameJson(webhooksOf(mutating), webhooksOf(expected.mutating))
        ? []
        : [`MutatingWebhookConfiguration ${MutatingConfigurationName}`]),
      ...(sameJson(webhooksOf(validating), webhooksOf(expected.validating))
        ? []
        : [`ValidatingWebhookConfiguration ${ValidatingConfigurationName}`]),
    ]
    return different.length > 0 ? { state: "different", names: different } : { state: "current" }
  })
