/**
 * The operator process: informers, metrics, events and health (the runtime), the admission server with
 * its informer-backed lookups, the self-managed certificate manager when LANGOP_CERT_SOURCE=self, and
 * the registered controllers under the manager (leader election per the settings).
 *
 * Guarantees:
 * - one informer per kind, shared by the controllers and the admission lookups (one runtime layer);
 * - `/readyz` is ready once every informer has synced AND the admission server holds a valid
 *   certificate ("webhook-certificate" check), on every replica (leaders and standbys serve admission);
 * - everything started lives in the caller's scope: closing it stops the controllers gracefully (the
 *   manager's drain), releases the Lease, then closes the admission server (open requests finish);
 * - a listen failure of the admission server becomes the port sentence of preflight.ts.
 * Assumption: the caller provides the KubeClient and a logger (main.ts).
 */
import { NodeServices } from "@effect/platform-node"
import { Cause, Context, Effect, type Fiber, Layer, type Scope } from "effect"
import { ciliumStartup } from "../controllers/common/fqdn.ts"
import type { KubeClient } from "../kube/client.ts"
import type { Controller } from "../runtime/controller.ts"
import { Health } from "../runtime/health.ts"
import { managerOptionsFromSettings, runManager, runtimeLayerFromSettings } from "../runtime/manager.ts"
import { Settings, type SettingsShape } from "../settings.ts"
import { DefaultServiceName } from "../webhook/configurations.ts"
import { webhookTable } from "../webhook/index.ts"
import { layer as lookupLayer } from "../webhook/lookup.ts"
import { layerFromSettings, WebhookServer } from "../webhook/server.ts"
import { reconcileCertificates, runSelfCertManager, type SelfCertOptions } from "./certmanager.ts"
import { type ControllerServices, controllerServicesLayer } from "./controllers.ts"
import { firstLine, StartupError } from "./errors.ts"
import { listenersOf, portProblem } from "./preflight.ts"

/** The self-managed certificate manager's options from the settings (in-cluster Service names). */
export const selfCertOptionsFromSettings = (s: SettingsShape): SelfCertOptions => {
  const svc = `${DefaultServiceName}.${s.operatorNamespace}.svc`
  return {
    namespace: s.operatorNamespace,
    secretName: s.certSecretName,
    dnsNames: [svc, `${svc}.${s.clusterDomain}`],
    certDir: s.certDir,
    caValidity: s.selfCaValidity,
    servingValidity: s.selfCertValidity,
  }
}

export interface RunningOperator {
  /** The admission server's bound port. */
  readonly webhookPort: number
  /** Readiness as `/readyz` reports it. */
  readonly ready: Effect.Effect<boolean>
  /** The manager; it only ends by failing (a defect) or by the scope closing. */
  readonly manager: Fiber.Fiber<never>
}

export interface StartOptions {
  /** Overrides the self-managed certificate options (tests: short validity, 127.0.0.1 SAN). */
  readonly selfCerts?: SelfCertOptions | undefined
}

const codeOf = (u: unknown): string | undefined => {
  for (let e: unknown = u, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string") return e.code
    e = typeof e === "object" && "cause" in e ? e.cause : undefined
  }
  return undefined
}

/** Starts the operator in the current scope and returns once its servers listen. */
export const startOperator = (
  settings: SettingsShape,
  controllers: ReadonlyArray<Controller<ControllerServices>>,
  options: StartOptions = {},
): Effect.Effect<RunningOperator, StartupError, Scope.Scope | KubeClient> =>
  Effect.gen(function* () {
    const selfCerts =
      settings.certSource === "self"
        ? (options.selfCerts ?? selfCertOptionsFromSettings(settings))
        : undefined
    // One round before the server starts, so its first handshake already has a certificate.
    if (selfCerts !== undefined)
      yield* reconcileCertificates(selfCerts).pipe(
        Effect.catchCause((cause) =>
          Effect.logWarning("self-managed certificates: first round failed; retrying in the background", {
            error: firstLine(Cause.squash(cause)),
          }),
        ),
      )
    const table = webhookTable({ defaultClientIssuer: settings.defaultClientIssuer })
    const webhook = layerFromSettings(table).pipe(
      Layer.provide(lookupLayer),
      Layer.provide(Layer.mergeAll(Layer.succeed(Settings, settings), NodeServices.layer)),
    )
    const context = yield* Layer.build(
      webhook.pipe(Layer.provideMerge(runtimeLayerFromSettings(settings))),
    ).pipe(
      Effect.mapError((e) => {
        const code = codeOf(e.cause)
        const listener = listenersOf(settings)[0]
        return new StartupError({
          message:
            code !== undefined && listener !== undefined
              ? portProblem(listener, code)
              : `the admission server could not start: ${firstLine(e.cause)}.`,
        })
      }),
    )
    const server = Context.get(context, WebhookServer)
    const health = Context.get(context, Health)
    yield* health.addReadinessCheck("webhook-certificate", server.ready)
    if (selfCerts !== undefined) yield* Effect.forkScoped(runSelfCertManager(selfCerts))
    yield* ciliumStartup(settings.ciliumFqdnPolicies)
    const manager = yield* Effect.forkScoped(
      runManager(controllers, managerOptionsFromSettings(settings)).pipe(
        Effect.provide(controllerServicesLayer(settings)),
        Effect.provideContext(context),
      ),
    )
    const ready = Effect.map(health.evaluate("ready"), (checks) => checks.every((c) => c.ok))
    return { webhookPort: server.port, ready, manager }
  })

/** The sentence for a manager that died (e.g. a probe port taken after the preflight check). */
export const managerProblem = (settings: SettingsShape, defect: unknown): string => {
  const code = codeOf(defect)
  if (code !== undefined) {
    const [, ...rest] = listenersOf(settings)
    const port = (defect as { port?: unknown }).port
    const listener = rest.find((l) => l.bind.port === port) ?? rest[0]
    if (listener !== undefined && (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL"))
      return portProblem(listener, code)
  }
  return `the operator stopped unexpectedly: ${firstLine(defect)}.`
}
