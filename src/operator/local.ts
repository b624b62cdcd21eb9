/**
 * `npm start` without any kubeconfig: a complete local setup in one command. It starts the local
 * control plane (src/localcluster; the first run builds it from source, showing progress), installs the
 * CRDs and out-of-cluster webhook configurations, runs the operator against it, applies
 * `deploy/examples/` and prints what to type next.
 *
 * Guarantees: everything lives in the caller's scope; closing it (Ctrl-C) removes the webhook
 * configurations first, then stops the operator, then every control-plane process, and deletes the
 * run directory (kubeconfig, etcd data, logs) — nothing is left behind but the build cache and the
 * development CA. The operator's JSON logs go to `<run dir>/logs/operator.log` so the terminal keeps
 * the instructions readable. A failing example is reported and the rest keep running.
 */
import { execFileSync } from "node:child_process"
import { createWriteStream, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Layer, Logger, References, Schedule, type Scope } from "effect"
import { parseAllDocuments } from "yaml"
import { repoRoot } from "../localcluster/binaries.ts"
import { type LocalClusterInfo, startLocalCluster } from "../localcluster/cluster.ts"
import type { LocalClusterError } from "../localcluster/errors.ts"
import { kubectl } from "../localcluster/kubectl.ts"
import { formatLine, type LogLevelSetting } from "../runtime/logging.ts"
import type { SettingsShape } from "../settings.ts"
import { firstLine, StartupError } from "./errors.ts"
import { runOutOfCluster } from "./outofcluster.ts"

export const examplesDir = join(repoRoot, "deploy", "examples")

const hasGo = (): boolean => {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/** The sentence for a local control plane that could not be built or started. */
export const localClusterProblem = (e: LocalClusterError, goAvailable: boolean): string => {
  switch (e._tag) {
    case "ClusterBuildError":
      return goAvailable
        ? "building the local control plane failed (see the build output above): fix the cause and run npm start again, or point KUBECONFIG at an existing cluster."
        : "no Go toolchain on PATH: npm start builds a local control plane from source on first use and needs Go (version in test/cluster/k8s/go.mod); install Go, or point KUBECONFIG at an existing cluster."
    case "ClusterStartError":
      return `the local control plane did not start (${e.component}: ${firstLine(e)}): see the component logs above and run npm start again.`
    case "ClusterCommandError":
      return `a command needed by the local control plane failed (${firstLine(e.message)}): check that it is installed and run npm start again.`
  }
}

/** The namespace the examples expect: the one their LanguageCluster provides (`demo`). */
export const examplesNamespace = (dir: string = examplesDir): { cluster: string; namespace: string } => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const o = doc.toJS() as {
        kind?: string
        metadata?: { name?: string }
        spec?: { namespace?: string }
      } | null
      if (o?.kind === "LanguageCluster" && o.metadata?.name !== undefined) {
        const ns = o.spec?.namespace
        return {
          cluster: o.metadata.name,
          namespace: ns !== undefined && ns !== "" ? ns : `${o.metadata.name}-ns`,
        }
      }
    }
  }
  return { cluster: "", namespace: "default" }
}

const levels = { trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const

/** JSON log lines into `path`; the file stays open for the enclosing scope (forked fibers keep logging). */
const fileLogging = (path: string, level: LogLevelSetting) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => createWriteStream(path, { flags: "a" })),
      (s) => Effect.callback<void>((resume) => void s.end(() => resume(Effect.void))),
    ),
    (stream) =>
      Layer.mergeAll(
        Logger.layer([Logger.make((options) => void stream.write(`${formatLine(options)}\n`))]),
        Layer.succeed(References.MinimumLogLevel, levels[level]),
      ),
  )

/** Applies the examples: the LanguageCluster first, then (once its namespace is Ready) the rest into it. */
const applyExamples = (info: LocalClusterInfo, say: (line: string) => void) =>
  Effect.gen(function* () {
    const { cluster, namespace } = examplesNamespace()
    const run = (args: ReadonlyArray<string>) => kubectl(info.kubectlPath, info.kubeconfigPath, args)
    if (cluster !== "") {
      const applied = yield* run(["apply", "-f", join(examplesDir, "languagecluster.yaml")])
      if (applied.exitCode !== 0) say(`applying the LanguageCluster example failed: ${applied.stderr.trim()}`)
      const waited = yield* run([
        "wait",
        "--for=jsonpath={.status.phase}=Ready",
        `languagecluster/${cluster}`,
        "--timeout=90s",
      ])
      if (waited.exitCode !== 0) say(`LanguageCluster ${cluster} is not Ready yet: ${waited.stderr.trim()}`)
    }
    const applied = yield* run(["apply", "-n", namespace, "-f", examplesDir])
    if (applied.exitCode !== 0) say(`some examples were not accepted:\n${applied.stderr.trim()}`)
    return namespace
  })

/** Runs everything in the current scope; returns once the examples are applied and the hint printed. */
export const runLocal = (
  settings: SettingsShape,
  o: { readonly say: (line: string) => void; readonly checked: string; readonly realNode?: boolean },
): Effect.Effect<LocalClusterInfo, StartupError, Scope.Scope> =>
  Effect.gen(function* () {
    o.say(
      `no cluster configured (${o.checked}): starting a local control plane; the first run builds it from source (about 10 minutes), later runs take seconds`,
    )
    const info = yield* startLocalCluster({ onProgress: o.say, realNode: o.realNode === true }).pipe(
      Effect.mapError((e) => new StartupError({ message: localClusterProblem(e, hasGo()) })),
    )
    // Runs after the operator has stopped (finalizers run in reverse), before the processes stop.
    yield* Effect.addFinalizer(() => Effect.sync(() => o.say("stopping the local control plane …")))
    const logFile = join(info.runDir, "logs", "operator.log")
    const kc = new KubeConfig()
    kc.loadFromFile(info.kubeconfigPath)
    const logging = yield* fileLogging(logFile, settings.logLevel)
    const operator = yield* runOutOfCluster(settings, {
      kc,
      server: info.server,
      install: true,
      say: o.say,
    }).pipe(Effect.provide(logging))
    o.say(`operator started (logs: ${logFile}); waiting until it is ready …`)
    const ready = yield* operator.ready.pipe(
      Effect.repeat({ schedule: Schedule.spaced("250 millis"), until: (ok) => ok }),
      Effect.timeoutOption("120 seconds"),
    )
    if (ready._tag === "None") o.say("the operator is not ready after 120 s; applying the examples anyway")
    const namespace = yield* applyExamples(info, o.say)
    o.say(
      [
        "",
        `langop is running on a local control plane (${info.server}) with the examples from deploy/examples/ in namespace ${namespace}. In another terminal:`,
        "",
        `  export KUBECONFIG=${info.kubeconfigPath}; ${info.kubectlPath} get langop -A`,
        "",
        "Ctrl-C stops the operator and the control plane and removes everything they created.",
      ].join("\n"),
    )
    return info
  })
