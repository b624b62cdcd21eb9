// Locates (building on first use) the control-plane binaries via test/cluster/build.sh.
// Guarantees: build progress is streamed line by line to `onProgress` as it happens; a warm cache
// returns in well under a second; the returned paths exist and are executable.
import { spawn } from "node:child_process"
import { homedir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { ClusterBuildError } from "./errors.ts"

export interface Binaries {
  readonly binDir: string
  readonly etcd: string
  readonly kubeApiserver: string
  readonly kubeControllerManager: string
  readonly kubeScheduler: string
  readonly kubectl: string
  readonly kwok: string
  /** kustomize dir with kwok's "fast" stages (node init + lease heartbeat, pod ready/complete/delete). */
  readonly kwokStages: string
  readonly certManagerCrdsDir: string
  /** np-guard's netpol-analyzer CLI (`eval`/`list` over NetworkPolicies; test/cluster/netpol). */
  readonly netpolAnalyzer: string
}

export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url))
export const buildScript: string = join(repoRoot, "test", "cluster", "build.sh")

/** Same directory build.sh uses: ${XDG_CACHE_HOME:-$HOME/.cache}/langop-testcluster. */
export const cacheRoot = (): string => {
  const xdg = process.env.XDG_CACHE_HOME
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "langop-testcluster")
}

export const binariesIn = (binDir: string): Binaries => ({
  binDir,
  etcd: join(binDir, "etcd"),
  kubeApiserver: join(binDir, "kube-apiserver"),
  kubeControllerManager: join(binDir, "kube-controller-manager"),
  kubeScheduler: join(binDir, "kube-scheduler"),
  kubectl: join(binDir, "kubectl"),
  kwok: join(binDir, "kwok"),
  kwokStages: join(binDir, "kwok-stages", "fast"),
  certManagerCrdsDir: join(binDir, "cert-manager-crds"),
  netpolAnalyzer: join(binDir, "netpol-analyzer"),
})

const defaultProgress = (line: string) => {
  process.stderr.write(`${line}\n`)
}

/** Runs build.sh (a no-op when cached) and returns the binaries it printed the directory of. */
export const ensureBinaries = (
  onProgress: (line: string) => void = defaultProgress,
): Effect.Effect<Binaries, ClusterBuildError> =>
  Effect.callback<Binaries, ClusterBuildError>((resume) => {
    // Own process group, so an interruption can stop bash *and* the go build it runs.
    const child = spawn("bash", [buildScript], { stdio: ["ignore", "pipe", "pipe"], detached: true })
    let stdout = ""
    let partial = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop() ?? ""
      for (const line of lines) onProgress(line)
    })
    child.on("error", (e) =>
      resume(
        Effect.fail(
          new ClusterBuildError({ message: `cannot run ${buildScript}: ${e.message}`, exitCode: null }),
        ),
      ),
    )
    child.on("close", (code) => {
      if (partial !== "") onProgress(partial)
      const binDir = stdout.trim().split("\n").pop() ?? ""
      resume(
        code === 0 && binDir !== ""
          ? Effect.succeed(binariesIn(binDir))
          : Effect.fail(
              new ClusterBuildError({
                message: `${buildScript} failed (exit ${String(code)}); see the lines above`,
                exitCode: code,
              }),
            ),
      )
    })
    // Interrupting the caller (Ctrl-C in a test run) stops the build; go build resumes from its cache.
    return Effect.sync(() => {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGTERM")
        } catch {
          // already gone
        }
      }
    })
  })
