// Per-run working directories and clean-up of runs whose owner died without releasing them.
// A run dir holds PKI, kubeconfigs, logs and the etcd data; it lives on /dev/shm when available
// (tmpfs: no disk I/O for etcd). `owner.json` records the owning PID and every component PID so a
// later run can stop the orphans of a crashed one. PIDs are only signalled after checking that
// /proc/<pid>/cmdline runs a binary from our bin dir, so a recycled PID is never hit.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

export interface OwnerRecord {
  readonly ownerPid: number
  readonly binDir: string
  readonly pids: ReadonlyArray<{ readonly name: string; readonly pid: number }>
}

export const runsRoot = (): string => {
  const shm = "/dev/shm"
  const base = existsSync(shm) && statSync(shm).isDirectory() ? shm : tmpdir()
  return join(base, "langop-testcluster")
}

/** True if `pid` exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/** True if `pid` is alive and runs an executable from `binDir`. */
export const runsFrom = (pid: number, binDir: string): boolean => {
  if (!isAlive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]?.startsWith(`${binDir}/`) ?? false
  } catch {
    return false
  }
}

const readOwner = (dir: string): OwnerRecord | undefined => {
  try {
    return JSON.parse(readFileSync(join(dir, "owner.json"), "utf8")) as OwnerRecord
  } catch {
    return undefined
  }
}

/** Kills (SIGKILL) the leftover components of runs whose owner process is gone; removes their dirs. */
export const reapStaleRuns = (root: string = runsRoot()): ReadonlyArray<string> => {
  if (!existsSync(root)) return []
  const reaped: Array<string> = []
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry)
    const owner = readOwner(dir)
    // A dir without owner.json is a run that is still being set up (or pre-dates this format):
    // leave it unless it is older than a day.
    if (owner === undefined) {
      if (Date.now() - statSync(dir).mtimeMs > 86_400_000) rmSync(dir, { recursive: true, force: true })
      continue
    }
    if (isAlive(owner.ownerPid)) continue
    for (const p of owner.pids) {
      if (runsFrom(p.pid, owner.binDir)) process.kill(p.pid, "SIGKILL")
    }
    rmSync(dir, { recursive: true, force: true })
    reaped.push(dir)
  }
  return reaped
}

export interface RunDir {
  readonly path: string
  /** Records one more component PID in owner.json. */
  readonly record: (name: string, pid: number) => void
}

/** A fresh run dir, removed (recursively) when the scope closes. */
export const acquireRunDir = (binDir: string): Effect.Effect<RunDir, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const root = runsRoot()
      mkdirSync(root, { recursive: true })
      const path = mkdtempSync(join(root, "run-"))
      const pids: Array<{ name: string; pid: number }> = []
      const write = () =>
        writeFileSync(
          join(path, "owner.json"),
          JSON.stringify({ ownerPid: process.pid, binDir, pids }, null, 2),
        )
      write()
      return {
        path,
        record: (name: string, pid: number) => {
          pids.push({ name, pid })
          write()
        },
      }
    }),
    (dir) => Effect.sync(() => rmSync(dir.path, { recursive: true, force: true })),
  )
