/**
 * Running the operator outside the cluster it manages (a developer's kubeconfig, or the local control
 * plane): the admission server on 127.0.0.1 with a development CA, registered through url-form webhook
 * configurations.
 *
 * Steps: reach the API server → development certificates → with `install`: operator namespace, CRDs
 * (server-side apply, Established); without: check them and stop with what is missing (the webhook
 * configurations only warn: the operator works without them, objects are then admitted without
 * defaulting and validation) → RBAC check → start the operator → with `install`: register the webhook
 * configurations, and remove them again when the scope closes, BEFORE the operator stops (finalizers
 * run in reverse), so no configuration is ever left pointing at a server that is gone.
 */
import type { KubeConfig } from "@kubernetes/client-node"
import { type Context, Effect, Layer, type Scope } from "effect"
import { KubeClient, layerFromKubeConfig } from "../kube/client.ts"
import { describeError, type KubeError } from "../kube/errors.ts"
import { Builtin } from "../kube/resources.ts"
import type { SettingsShape } from "../settings.ts"
import { webhookConfigurations } from "../webhook/configurations.ts"
import { webhookTable } from "../webhook/index.ts"
import { operatorControllers } from "./controllers.ts"
import { defaultDevCertDir, ensureDevCerts } from "./devcerts.ts"
import { StartupError } from "./errors.ts"
import {
  crdStates,
  ensureNamespace,
  installCrds,
  installWebhookConfigurations,
  removeWebhookConfigurations,
  webhookConfigurationState,
} from "./install.ts"
import { checkPermissions, checkReachable } from "./preflight.ts"
import { deployedComponents } from "./rbac.ts"
import { type RunningOperator, startOperator } from "./run.ts"

export interface OutOfClusterOptions {
  readonly kc: KubeConfig
  /** The API server URL, for messages. */
  readonly server: string
  /** Install/update CRDs and register the webhook configurations (removed again on exit). */
  readonly install: boolean
  /** User-facing progress lines (stderr). */
  readonly say: (line: string) => void
  /** Certificate directory; default `LANGOP_CERT_DIR` when set, else the development cache dir. */
  readonly certDir?: string | undefined
}

export interface OutOfClusterOperator extends RunningOperator {
  /** The settings the operator runs with (certificate directory and source replaced). */
  readonly settings: SettingsShape
  /** The KubeClient it uses (the caller's further requests share its connection). */
  readonly client: Context.Context<KubeClient>
}

const apiProblem = (what: string) => (e: KubeError | Error) =>
  new StartupError({
    message: `${what} failed: ${"_tag" in e && typeof e._tag === "string" && "code" in e ? describeError(e as KubeError) : e.message}.`,
  })

const missingInstall = (
  s: SettingsShape,
  say: (line: string) => void,
): Effect.Effect<ReadonlyArray<string>, StartupError, KubeClient> =>
  Effect.gen(function* () {
    // The operator itself needs no access to CRDs; an identity without it just cannot have them checked.
    const crds = yield* crdStates.pipe(
      Effect.catchTag("Forbidden", () =>
        Effect.sync(() => {
          say("note: this identity may not read CustomResourceDefinitions, so the CRDs were not checked")
          return []
        }),
      ),
      Effect.mapError(apiProblem("reading the CRDs")),
    )
    const missing = crds.filter((c) => c.state !== "current").map((c) => `CRD ${c.name} (${c.state})`)
    if (s.leaderElect) {
      const client = yield* KubeClient
      const ns = yield* client.get(Builtin.Namespace, { name: s.operatorNamespace }).pipe(
        Effect.as(true),
        Effect.catchTag("NotFound", () => Effect.succeed(false)),
        Effect.mapError(apiProblem("reading the operator namespace")),
      )
      if (!ns) missing.push(`namespace ${s.operatorNamespace} (for the leader-election Lease)`)
    }
    return missing
  })

/** Checks or installs, then starts the operator in the current scope. */
export const runOutOfCluster = (
  base: SettingsShape,
  o: OutOfClusterOptions,
): Effect.Effect<OutOfClusterOperator, StartupError, Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* Layer.build(layerFromKubeConfig(o.kc))
    const provide = <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.provideContext(e, client)
    yield* provide(checkReachable(o.server))
    const user = o.kc.getCurrentUser()
    const acting = user?.impersonateUser == null ? "" : ` acting as "${user.impersonateUser}"`
    yield* provide(
      checkPermissions(
        base,
        deployedComponents(),
        `the kubeconfig user "${user?.name ?? "(unknown)"}"${acting} (context ${o.kc.getCurrentContext()})`,
      ),
    )

    const certDir = o.certDir ?? process.env.LANGOP_CERT_DIR ?? defaultDevCertDir()
    const url = base.webhookHost === "0.0.0.0" || base.webhookHost === "" ? "127.0.0.1" : base.webhookHost
    const certs = yield* ensureDevCerts(certDir, url).pipe(
      Effect.mapError(
        (e) => new StartupError({ message: `${e.message}; set LANGOP_CERT_DIR to a writable directory.` }),
      ),
    )
    if (base.certSource === "self" || base.certSource === "cert-manager")
      o.say(
        `LANGOP_CERT_SOURCE=${base.certSource} applies in a cluster; out of cluster the development CA in ${certDir} is used`,
      )
    const settings: SettingsShape = { ...base, certDir, certSource: "files" }
    const configurations = webhookConfigurations(webhookTable(), {
      mode: "url",
      host: url,
      port: settings.webhookPort,
      caBundle: certs.caPem,
      operatorNamespace: settings.operatorNamespace,
    })

    if (o.install) {
      o.say("installing CRDs (server-side apply) and waiting until they are Established …")
      if (settings.leaderElect)
        yield* provide(ensureNamespace(settings.operatorNamespace)).pipe(
          Effect.mapError(apiProblem(`creating namespace ${settings.operatorNamespace}`)),
        )
      yield* provide(installCrds).pipe(Effect.mapError(apiProblem("installing the CRDs")))
    } else {
      const missing = yield* provide(missingInstall(settings, o.say))
      if (missing.length > 0)
        return yield* new StartupError({
          message: `the cluster at ${o.server} lacks what the operator needs: ${missing.join(", ")}; run \`npm start -- --install\` to install them (or \`kubectl apply --server-side -f crds/\`).`,
        })
      const state = yield* provide(webhookConfigurationState(configurations)).pipe(
        Effect.catchTag("Forbidden", () => Effect.succeed({ state: "unknown" as const })),
        Effect.mapError(apiProblem("reading the webhook configurations")),
      )
      if (state.state === "absent")
        o.say(
          `warning: ${state.names.join(" and ")} absent, so objects are admitted without defaulting and validation; run \`npm start -- --install\` to register this process's admission server`,
        )
      else if (state.state === "unknown")
        o.say(
          "note: this identity may not read webhook configurations, so their registration was not checked",
        )
      else if (state.state === "different")
        o.say(
          `warning: ${state.names.join(" and ")} do not point at https://${url}:${settings.webhookPort} with the CA in ${certDir}; run \`npm start -- --install\` to re-register them`,
        )
    }

    const controllers = operatorControllers(settings)
    if (controllers._tag === "Failure")
      return yield* new StartupError({ message: `invalid settings: ${controllers.failure.join("; ")}.` })
    const running = yield* provide(startOperator(settings, controllers.success))

    if (o.install) {
      yield* provide(installWebhookConfigurations(configurations)).pipe(
        Effect.mapError(apiProblem("registering the webhook configurations")),
      )
      // Added after the operator started, so it runs before the operator stops.
      yield* Effect.addFinalizer(() =>
        provide(removeWebhookConfigurations).pipe(
          Effect.tap(() => Effect.sync(() => o.say("removed the webhook configurations"))),
          Effect.catch((e) =>
            Effect.sync(() => o.say(`could not remove the webhook configurations: ${describeError(e)}`)),
          ),
        ),
      )
      o.say(`registered the admission webhooks at https://${url}:${running.webhookPort}`)
    }
    return { ...running, settings, client }
  })
