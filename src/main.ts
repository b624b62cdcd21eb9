/**
 * `npm start [-- --install] [--real-node]`: runs the operator (`--real-node`: the local control plane
 * also gets a real node, see src/localcluster/node/).
 *
 * - In a Pod (in-cluster credentials; deploy/): controllers under leader election, the admission server,
 *   probes and metrics as the settings say (the Deployment binds them on 0.0.0.0).
 * - With a kubeconfig (`$KUBECONFIG` or `~/.kube/config`): out of cluster against its current context;
 *   admission server on 127.0.0.1:9443 with a development CA, probes 127.0.0.1:8081, metrics
 *   127.0.0.1:8080. `--install` installs/updates the CRDs and registers url-form webhook configurations
 *   (removed again on exit); without it the operator checks them and says what is missing.
 * - With neither: starts a local control plane, installs everything, runs the operator, applies
 *   deploy/examples/ and prints what to type next (src/operator/local.ts).
 *
 * Guarantees: SIGINT/SIGTERM stop everything that was started, in reverse order (webhook configurations
 * first), and exit 0; a startup failure prints ONE sentence (`langop: …`) with the remedy and exits 1,
 * never a stack trace. Settings are environment variables (src/settings.ts).
 */
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Fiber, Layer, type Scope } from "effect"
import { layerFromKubeConfig } from "./kube/client.ts"
import { findClusterAccess } from "./operator/access.ts"
import { operatorControllers } from "./operator/controllers.ts"
import { firstLine, StartupError, settingProblem } from "./operator/errors.ts"
import { runOutOfCluster } from "./operator/outofcluster.ts"
import { checkPermissions, checkPorts, checkReachable } from "./operator/preflight.ts"
import { deployedComponents } from "./operator/rbac.ts"
import { managerProblem, type RunningOperator, startOperator } from "./operator/run.ts"
import { loggingLayer, parseLogLevel } from "./runtime/logging.ts"
import { tracingLayer, tracingOptionsFromSettings } from "./runtime/tracing.ts"
import { Settings, type SettingsShape } from "./settings.ts"

const usage = "usage: npm start [-- --install] [--real-node] [--zap-log-level=debug|info|error|<verbosity>]"

const say = (line: string) => {
  process.stderr.write(`${line}\n`)
}

const parseCommandLine = (argv: ReadonlyArray<string>) =>
  Effect.try({
    try: () =>
      parseArgs({
        args: [...argv],
        options: {
          install: { type: "boolean", default: false },
          "real-node": { type: "boolean", default: false },
          help: { type: "boolean", short: "h" },
          // controller-runtime's flag, so Deployments written for Go operators keep working.
          "zap-log-level": { type: "string" },
        },
        strict: true,
      }).values,
    catch: (e) => new StartupError({ message: `${firstLine(e)} (${usage}).` }),
  })

const readSettings = Effect.gen(function* () {
  return yield* Settings
}).pipe(
  Effect.provide(Settings.layer),
  Effect.mapError((e) => new StartupError({ message: settingProblem(e.message) })),
)

/** `--zap-log-level` wins over LANGOP_LOG_LEVEL, as a flag over the environment. */
const withLogLevelFlag = (settings: SettingsShape, flag: string | undefined) => {
  if (flag === undefined) return Effect.succeed(settings)
  const level = parseLogLevel(flag)
  return level === undefined
    ? Effect.fail(
        new StartupError({
          message: `--zap-log-level: "${flag}" is not a level; use trace, debug, info, warn, error or a verbosity of 1 or more (${usage}).`,
        }),
      )
    : Effect.succeed({ ...settings, logLevel: level })
}

/**
 * The local control plane is loaded only when it is needed: the container image leaves it out (it carries
 * only what runs in a Pod), and there a missing cluster must be a sentence, not a module error.
 */
const loadLocal = Effect.tryPromise({
  try: () => import("./operator/local.ts"),
  catch: () =>
    new StartupError({
      message:
        "no cluster found (no kubeconfig, not in a Pod), and this installation has no local control plane (the container image leaves it out): set KUBECONFIG or run it in a cluster.",
    }),
})

/** Waits for the manager; it only ends by dying, which becomes a sentence. */
const superviseManager = (settings: SettingsShape, running: RunningOperator) =>
  Effect.flatMap(Fiber.await(running.manager), (exit) =>
    Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
      ? Effect.fail(new StartupError({ message: managerProblem(settings, Cause.squash(exit.cause)) }))
      : Effect.never,
  )

const inCluster = (
  settings: SettingsShape,
  access: {
    readonly kc: Parameters<typeof layerFromKubeConfig>[0]
    readonly server: string
    readonly identity: string | undefined
  },
): Effect.Effect<never, StartupError, Scope.Scope> =>
  Effect.gen(function* () {
    const controllers = operatorControllers(settings)
    if (controllers._tag === "Failure")
      return yield* new StartupError({ message: `invalid settings: ${controllers.failure.join("; ")}.` })
    const client = yield* Layer.build(layerFromKubeConfig(access.kc))
    const sa = access.identity ?? `a service account in ${settings.operatorNamespace}`
    const running = yield* Effect.gen(function* () {
      yield* checkReachable(access.server)
      yield* checkPermissions(settings, deployedComponents(), `the service account (${sa})`)
      return yield* startOperator(settings, controllers.success)
    }).pipe(Effect.provideContext(client))
    return yield* superviseManager(settings, running)
  })

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const args = yield* parseCommandLine(argv)
    if (args.help === true) {
      say(`${usage}\n(see the header of src/main.ts and the settings in src/settings.ts)`)
      return
    }
    const settings = yield* withLogLevelFlag(yield* readSettings, args["zap-log-level"])
    const tracing = tracingOptionsFromSettings(settings)
    if (typeof tracing === "string")
      return yield* new StartupError({ message: `invalid settings: ${tracing}.` })
    const main = Effect.gen(function* () {
      const access = yield* findClusterAccess()
      // Before anything slow (a first local build takes minutes): the ports must be free.
      yield* checkPorts(settings)
      switch (access.mode) {
        case "none": {
          if (args.install === true)
            say("--install is implied: the local control plane is set up from scratch")
          const { runLocal } = yield* loadLocal
          yield* runLocal(settings, { say, checked: access.checked, realNode: args["real-node"] === true })
          return yield* Effect.never
        }
        case "kubeconfig": {
          if (args["real-node"] === true)
            return yield* new StartupError({
              message: `--real-node adds a node to the local control plane, which starts only without a kubeconfig (found ${access.source}).`,
            })
          const running = yield* runOutOfCluster(settings, {
            kc: access.kc,
            server: access.server,
            install: args.install === true,
            say,
          })
          const s = running.settings
          say(
            `langop is running against ${access.server} (context ${access.context}, kubeconfig ${access.source}): admission https://127.0.0.1:${running.webhookPort}` +
              `${s.healthProbeBindAddress === undefined ? "" : `, readiness http://${s.healthProbeBindAddress.host}:${s.healthProbeBindAddress.port}/readyz`}` +
              `${s.metricsBindAddress === undefined ? "" : `, metrics http://${s.metricsBindAddress.host}:${s.metricsBindAddress.port}/metrics`}; Ctrl-C stops it.`,
          )
          return yield* superviseManager(s, running)
        }
        case "in-cluster": {
          if (args["real-node"] === true)
            return yield* new StartupError({
              message: "--real-node is for a local run, not inside a cluster.",
            })
          if (args.install === true)
            return yield* new StartupError({
              message:
                "--install is for out-of-cluster runs; in a cluster, install with `kubectl apply -k deploy/`.",
            })
          return yield* inCluster(settings, access)
        }
      }
    })
    yield* Effect.scoped(main).pipe(
      Effect.provide(tracingLayer(tracing)),
      Effect.provide(loggingLayer(settings.logLevel)),
    )
  })

const reported = (argv: ReadonlyArray<string>) =>
  program(argv).pipe(
    Effect.catchTag("StartupError", (e) =>
      Effect.sync(() => {
        say(`langop: ${e.message}`)
        process.exitCode = 1
      }),
    ),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.sync(() => {
            say(
              `langop: unexpected failure: ${firstLine(Cause.squash(cause))}; please report it with the log above.`,
            )
            process.exitCode = 1
          }),
    ),
  )

NodeRuntime.runMain(reported(process.argv.slice(2)), {
  disableErrorReporting: true,
  // A signal-triggered stop is a clean stop: exit 0 once everything is torn down.
  teardown: (exit, onExit) =>
    onExit(
      typeof process.exitCode === "number" && process.exitCode !== 0
        ? process.exitCode
        : Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)
          ? 0
          : 1,
    ),
})
