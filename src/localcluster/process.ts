// Long-running component processes (etcd, kube-apiserver, …) as scoped resources.
// Guarantees: stdout+stderr of each process go to `<logDir>/<name>.log` (no pipes, so a process
// never blocks on a full pipe and survives its parent's event loop); each process runs in its own
// process group, so a terminal's Ctrl-C reaches only the owner, and dies with its owner (parent-death
// signal, see SETPRIV); releasing the scope stops the process by its PID: SIGTERM, up to 10 s grace,
// then SIGKILL. Nothing is ever killed by name.
// Assumption: the process was started by this Node process, so Node reaps it and the `exit` event
// tells us when it is gone.
import { spawn } from "node:child_process"
import { closeSync, existsSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Deferred, Effect, Schedule, type Scope } from "effect"
import { ClusterStartError } from "./errors.ts"

export interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
}

export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  readonly logPath: string
  /** Completes when the process has exited (for whatever reason). */
  readonly exited: Deferred.Deferred<ExitInfo>
}

export interface SpawnSpec {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly logDir: string
  readonly env?: NodeJS.ProcessEnv
  /** Called once the PID is known (the CLI records PIDs in its state file). */
  readonly onStarted?: (p: ManagedProcess) => void
}

const graceMs = 10_000

/**
 * util-linux's `setpriv`, when installed: it sets the parent-death signal (prctl PR_SET_PDEATHSIG) and
 * then execs the component in place (same PID), so the kernel SIGKILLs the component the moment this
 * process dies, even by SIGKILL. Without it, a killed owner's components are reaped by the next start
 * (rundir.ts).
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p))

/** The command line that starts `command args` bound to this process's life (see SETPRIV). */
export const boundToParent = (
  command: string,
  args: ReadonlyArray<string>,
  setpriv: string | undefined = SETPRIV,
): { readonly file: string; readonly args: ReadonlyArray<string> } =>
  setpriv === undefined
    ? { file: command, args }
    : { file: setpriv, args: ["--pdeathsig", "KILL", "--", command, ...args] }

/** Last `lines` lines of a log file ("" if it does not exist). */
export const tailFile = (path: string, lines = 40): string => {
  if (!existsSync(path)) return ""
  const all = readFileSync(path, "utf8").split("\n")
  return all.slice(Math.max(0, all.length - lines - 1)).join("\n")
}

/** The log tails of several processes, each under a header line. */
export const formatTails = (procs: ReadonlyArray<ManagedProcess>, lines = 40): string =>
  procs
    .map((p) => `----- ${p.name} (pid ${p.pid}, ${p.logPath}) -----\n${tailFile(p.logPath, lines)}`)
    .join("\n")

const describeExit = (e: ExitInfo) =>
  e.signal !== null ? `signal ${e.signal}` : `exit code ${String(e.code)}`

/** Sends `signal` to `pid`, ignoring "no such process". */
export const signalPid = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal)
  } catch {
    // ESRCH: already gone. EPERM cannot happen for our own children.
  }
}

/** SIGTERM, wait up to 10 s for the exit, then SIGKILL and wait again. */
export const stopProcess = (p: ManagedProcess): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (yield* Deferred.isDone(p.exited)) return
    signalPid(p.pid, "SIGTERM")
    const stopped = yield* Deferred.await(p.exited).pipe(
      Effect.as(true),
      Effect.timeoutOrElse({ duration: graceMs, orElse: () => Effect.succeed(false) }),
    )
    if (stopped) return
    signalPid(p.pid, "SIGKILL")
    yield* Deferred.await(p.exited).pipe(
      Effect.timeoutOrElse({ duration: 5_000, orElse: () => Effect.void }),
      Effect.asVoid,
    )
  })

/** Starts a process whose lifetime is bound to the current scope. */
export const spawnManaged = (
  spec: SpawnSpec,
): Effect.Effect<ManagedProcess, ClusterStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const logPath = join(spec.logDir, `${spec.name}.log`)
      const exited = yield* Deferred.make<ExitInfo>()
      const fd = openSync(logPath, "a")
      const bound = boundToParent(spec.command, spec.args)
      const child = yield* Effect.try({
        try: () =>
          spawn(bound.file, [...bound.args], {
            stdio: ["ignore", fd, fd],
            env: spec.env ?? process.env,
            // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
            // components must not stop before the owner has used them to clean up (webhook
            // configurations, …); the owner stops them itself, in order, when its scope closes.
            detached: true,
          }),
        catch: (e) =>
          new ClusterStartError({
            component: spec.name,
            message: `cannot spawn ${spec.command}: ${String(e)}`,
            logs: "",
          }),
      }).pipe(Effect.ensuring(Effect.sync(() => closeSync(fd))))
      child.on("exit", (code, signal) => {
        Deferred.doneUnsafe(exited, Effect.succeed({ code, signal }))
      })
      // A spawn error (ENOENT, EACCES) arrives asynchronously as an `error` event without `exit`.
      child.on("error", () => {
        Deferred.doneUnsafe(exited, Effect.succeed({ code: null, signal: null }))
      })
      if (child.pid === undefined) {
        return yield* new ClusterStartError({
          component: spec.name,
          message: `cannot spawn ${spec.command}`,
          logs: "",
        })
      }
      const managed: ManagedProcess = { name: spec.name, pid: child.pid, logPath, exited }
      spec.onStarted?.(managed)
      return managed
    }),
    stopProcess,
  )

/**
 * Polls `probe` (every 300 ms) until it succeeds, but fails at once if any of `watch` exits
 * meanwhile, and after `timeoutMs` at the latest. Failures carry the log tails of `watch` and, on
 * timeout, the last probe error.
 */
export const awaitReady = <E>(
  component: string,
  probe: Effect.Effect<unknown, E>,
  watch: ReadonlyArray<ManagedProcess>,
  timeoutMs: number,
): Effect.Effect<void, ClusterStartError> => {
  let last = "no attempt finished"
  const poll = probe.pipe(
    Effect.tapError((e) =>
      Effect.sync(() => {
        last = e instanceof Error ? e.message : String(e)
      }),
    ),
    Effect.retry(Schedule.spaced("300 millis")),
    // The retry is unbounded (the timeout below ends it), so no typed failure gets past it.
    Effect.orDie,
    Effect.asVoid,
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () =>
        Effect.fail(
          new ClusterStartError({
            component,
            message: `${component} not ready after ${timeoutMs / 1000} s (last check: ${last})`,
            logs: formatTails(watch),
          }),
        ),
    }),
  )
  const died = watch.map((p) =>
    Deferred.await(p.exited).pipe(
      Effect.flatMap((e) =>
        Effect.fail(
          new ClusterStartError({
            component,
            message: `${p.name} exited (${describeExit(e)}) while waiting for ${component}`,
            logs: formatTails(watch),
          }),
        ),
      ),
    ),
  )
  return Effect.raceAllFirst([poll, ...died])
}
