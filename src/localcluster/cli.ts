// `npm run cluster:up | cluster:down` (and `node src/localcluster/cli.ts status`).
//
// up:    builds the binaries if needed (progress on stderr), starts a detached supervisor process
//        (`cli.ts serve`) that holds the LocalCluster scope, waits until it is ready and prints
//        `KUBECONFIG=<path>` and `KUBECTL=<path>` on stdout, one per line. If a cluster is already
//        running (state file + live supervisor), it reports that one instead of starting another.
// down:  SIGTERM to the supervisor (which stops every component in reverse order and removes the
//        run dir); components it left behind (e.g. supervisor was SIGKILLed) are stopped by PID.
// serve: internal; runs until SIGTERM/SIGINT.
import { spawn } from "node:child_process"
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Schedule } from "effect"
import { cacheRoot, ensureBinaries } from "./binaries.ts"
import { startLocalCluster } from "./cluster.ts"
import { ensureNodeBuild, nodesRoot } from "./node/build.ts"
import { reapStaleNodes } from "./node/host.ts"
import { signalPid, tailFile } from "./process.ts"
import { isAlive, runsFrom } from "./rundir.ts"
import {
  clearState,
  type RunningState,
  readState,
  supervisorAlive,
  supervisorLogPath,
  writeState,
} from "./state.ts"

/** `--real-node`: a kubelet with containerd beside the kwok node (Linux, root). */
const realNode = process.argv.includes("--real-node")

const printAccess = (s: RunningState) =>
  Effect.sync(() => {
    process.stdout.write(`KUBECONFIG=${s.kubeconfigPath ?? ""}\nKUBECTL=${s.kubectlPath ?? ""}\n`)
    if (s.realNode !== undefined)
      process.stdout.write(`REAL_NODE=${s.realNode.nodeName}\nIMAGES=${s.realNode.images.join(",")}\n`)
  })

/** Polls until `pred` holds (every 250 ms), up to `timeoutMs`; returns whether it held. */
const waitUntil = (pred: () => boolean, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.sync(pred).pipe(
    Effect.repeat({ schedule: Schedule.spaced("250 millis"), until: (ok) => ok }),
    Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.succeed(false) }),
  )

/** Stops the components recorded in `state` that are still alive (SIGTERM, ≤10 s, SIGKILL). */
const stopLeftovers = (state: RunningState) =>
  Effect.gen(function* () {
    const binDir = state.binDir
    const alive = () =>
      state.processes.filter((p) => (binDir !== undefined ? runsFrom(p.pid, binDir) : isAlive(p.pid)))
    const left = alive()
    if (left.length === 0) return
    yield* Console.error(`stopping leftover processes: ${left.map((p) => `${p.name}(${p.pid})`).join(", ")}`)
    for (const p of [...left].reverse()) signalPid(p.pid, "SIGTERM")
    if (!(yield* waitUntil(() => alive().length === 0, 10_000))) {
      for (const p of alive()) signalPid(p.pid, "SIGKILL")
    }
  })

const cleanStale = (state: RunningState) =>
  Effect.gen(function* () {
    yield* stopLeftovers(state)
    // A real node of a killed supervisor: its processes run binaries from another dir.
    for (const r of yield* reapStaleNodes(nodesRoot()))
      yield* Console.error(`removed real node leftovers: ${r}`)
    if (state.runDir !== undefined) rmSync(state.runDir, { recursive: true, force: true })
    clearState(state.supervisorPid)
  })

const awaitSupervisor = (supervisorPid: number) =>
  Effect.gen(function* () {
    const ready = yield* waitUntil(() => {
      const s = readState()
      return (s?.status === "ready" && s.supervisorPid === supervisorPid) || !isAlive(supervisorPid)
    }, 600_000)
    const s = readState()
    if (ready && s?.status === "ready" && s.supervisorPid === supervisorPid) {
      yield* printAccess(s)
      return
    }
    yield* Console.error(`local cluster failed to start; last lines of ${supervisorLogPath()}:`)
    yield* Console.error(tailFile(supervisorLogPath(), 80))
    if (isAlive(supervisorPid)) signalPid(supervisorPid, "SIGTERM")
    process.exitCode = 1
  })

const up = Effect.gen(function* () {
  const existing = readState()
  if (existing !== undefined && supervisorAlive(existing)) {
    yield* Console.error(
      existing.status === "ready"
        ? `a local cluster is already running (supervisor pid ${existing.supervisorPid}, ${existing.server ?? ""})`
        : `a local cluster is starting (supervisor pid ${existing.supervisorPid}); waiting for it`,
    )
    return yield* awaitSupervisor(existing.supervisorPid)
  }
  if (existing !== undefined) yield* cleanStale(existing)
  // Build in the foreground so the (long, first-time) progress shows in this terminal.
  yield* ensureBinaries()
  if (realNode) yield* ensureNodeBuild((line) => process.stderr.write(`${line}\n`))
  mkdirSync(cacheRoot(), { recursive: true })
  const log = openSync(supervisorLogPath(), "w")
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), "serve", ...(realNode ? ["--real-node"] : [])],
    {
      detached: true,
      stdio: ["ignore", log, log],
    },
  )
  closeSync(log)
  child.unref()
  const pid = child.pid
  if (pid === undefined) return yield* Effect.die(new Error("cannot start the cluster supervisor"))
  yield* Console.error(`starting local cluster (supervisor pid ${pid}, log ${supervisorLogPath()})`)
  yield* awaitSupervisor(pid)
})

const down = Effect.gen(function* () {
  const state = readState()
  if (state === undefined) return yield* Console.error("no local cluster is running")
  if (supervisorAlive(state)) {
    signalPid(state.supervisorPid, "SIGTERM")
    // The supervisor needs up to ~10 s per component in the worst case.
    if (!(yield* waitUntil(() => !isAlive(state.supervisorPid), 60_000))) {
      signalPid(state.supervisorPid, "SIGKILL")
    }
  }
  yield* cleanStale(state)
  yield* Console.error("local cluster stopped")
})

const status = Effect.gen(function* () {
  const state = readState()
  if (state === undefined || !supervisorAlive(state)) {
    yield* Console.error("no local cluster is running")
    process.exitCode = 1
    return
  }
  yield* Console.error(`${state.status} (supervisor pid ${state.supervisorPid}, ${state.server ?? ""})`)
  if (state.status === "ready") yield* printAccess(state)
})

const serve = Effect.gen(function* () {
  const self = process.pid
  let state: RunningState = {
    status: "starting",
    supervisorPid: self,
    startedAt: new Date().toISOString(),
    logPath: supervisorLogPath(),
    processes: [],
  }
  writeState(state)
  // Registered first, so it runs last: after every component has been stopped.
  yield* Effect.addFinalizer(() => Effect.sync(() => clearState(self)))
  const info = yield* startLocalCluster({
    realNode,
    onProgress: (line) => console.error(line),
    onProcess: (name, pid) => {
      state = { ...state, processes: [...state.processes, { name, pid }] }
      writeState(state)
    },
  })
  state = {
    ...state,
    status: "ready",
    binDir: info.binDir,
    kubeconfigPath: info.kubeconfigPath,
    kubectlPath: info.kubectlPath,
    server: info.server,
    runDir: info.runDir,
    certManagerCrdsDir: info.certManagerCrdsDir,
    ...(info.realNode !== undefined
      ? { realNode: { nodeName: info.realNode.nodeName, images: info.realNode.images } }
      : {}),
  }
  writeState(state)
  return yield* Effect.never
}).pipe(Effect.scoped)

const commands: Record<string, Effect.Effect<void, unknown>> = { up, down, status, serve }
const name = process.argv[2] ?? ""
const command = commands[name]
const unknownFlags = process.argv.slice(3).filter((a) => a !== "--real-node")
if (command === undefined || unknownFlags.length > 0) {
  console.error("usage: node src/localcluster/cli.ts up [--real-node] | down | status")
  process.exitCode = 2
} else {
  NodeRuntime.runMain(command)
}
