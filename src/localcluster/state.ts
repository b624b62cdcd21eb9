// State file of the background cluster started by `npm run cluster:up`
// (${XDG_CACHE_HOME:-~/.cache}/langop-testcluster/running.json). It names the supervisor process
// (a detached Node process holding the LocalCluster scope) and every component PID, so
// `cluster:down` can stop them even if the supervisor itself was killed.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cacheRoot } from "./binaries.ts"
import { isAlive } from "./rundir.ts"

export interface RunningState {
  readonly status: "starting" | "ready"
  readonly supervisorPid: number
  readonly startedAt: string
  readonly logPath: string
  readonly processes: ReadonlyArray<{ readonly name: string; readonly pid: number }>
  readonly binDir?: string
  readonly kubeconfigPath?: string
  readonly kubectlPath?: string
  readonly server?: string
  readonly runDir?: string
  readonly certManagerCrdsDir?: string
  readonly realNode?: { readonly nodeName: string; readonly images: ReadonlyArray<string> }
}

export const statePath = (): string => join(cacheRoot(), "running.json")
export const supervisorLogPath = (): string => join(cacheRoot(), "cluster-up.log")

export const readState = (): RunningState | undefined => {
  const path = statePath()
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, "utf8")) as RunningState
  } catch {
    return undefined
  }
}

/** Atomic replace, so a concurrent reader never sees half a file. */
export const writeState = (state: RunningState): void => {
  const path = statePath()
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${path}.tmp`, path)
}

/** Removes the state file if it still belongs to `supervisorPid`. */
export const clearState = (supervisorPid: number): void => {
  const current = readState()
  if (current === undefined || current.supervisorPid === supervisorPid) rmSync(statePath(), { force: true })
}

export const supervisorAlive = (state: RunningState): boolean => isAlive(state.supervisorPid)
