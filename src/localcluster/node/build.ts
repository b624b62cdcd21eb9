// Locates (building on first use) the real node's binaries via test/cluster/node/build.sh, which
// prints the build dir as its only stdout line; progress lines are streamed to `onProgress`.
import { spawn } from "node:child_process"
import { homedir, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { repoRoot } from "../binaries.ts"
import { ClusterBuildError } from "../errors.ts"
import type { NodeBuild } from "./images.ts"

export const nodeBuildScript: string = join(repoRoot, "test", "cluster", "node", "build.sh")

/** Where node dirs live while a node runs (tmpfs when available: containerd's layers stay in memory). */
export const nodesRoot = (): string =>
  join(process.platform === "linux" ? "/dev/shm" : tmpdir(), "langop-testnode")

/** Same cache root build.sh uses. */
export const nodeCacheRoot = (): string => {
  const xdg = process.env.XDG_CACHE_HOME
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "langop-testnode")
}

export const ensureNodeBuild = (
  onProgress: (line: string) => void,
): Effect.Effect<NodeBuild, ClusterBuildError> =>
  Effect.callback<NodeBuild, ClusterBuildError>((resume) => {
    // Own process group, so an interruption stops bash and the go build it runs.
    const child = spawn("bash", [nodeBuildScript], { stdio: ["ignore", "pipe", "pipe"], detached: true })
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
          new ClusterBuildError({ message: `cannot run ${nodeBuildScript}: ${e.message}`, exitCode: null }),
        ),
      ),
    )
    child.on("close", (code) => {
      if (partial !== "") onProgress(partial)
      const dir = stdout.trim().split("\n").pop() ?? ""
      resume(
        code === 0 && dir !== ""
          ? Effect.succeed({ dir })
          : Effect.fail(
              new ClusterBuildError({
                message: `${nodeBuildScript} failed (exit ${String(code)}); see the lines above`,
                exitCode: code,
              }),
            ),
      )
    })
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
