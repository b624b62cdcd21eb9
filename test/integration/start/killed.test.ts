// A local control plane whose owner is killed with SIGKILL (no clean-up code runs) does not outlive it:
// its components run in their own process groups (so a terminal's Ctrl-C reaches only the owner), yet
// the kernel stops them when the owner dies.
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { expect, onTestFinished, test, vi } from "vitest"
import { isAlive } from "../../../src/localcluster/rundir.ts"
import { processesMentioning, start } from "./support.ts"

/** The process group of `pid` (the field after state and parent PID in /proc/<pid>/stat). */
const processGroupOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2])
}

test("the components of a SIGKILLed owner's control plane stop with it", async () => {
  const owner = start(["node", join(import.meta.dirname, "fixtures", "hold-cluster.ts")], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    XDG_CACHE_HOME: process.env.XDG_CACHE_HOME,
  })
  onTestFinished(async () => {
    await owner.stop("SIGKILL")
  })
  const ready = await vi.waitFor(
    () => {
      const line = owner
        .stdout()
        .split("\n")
        .find((l) => l.startsWith("{"))
      if (line === undefined) throw new Error(`not ready yet:\n${owner.stderr()}`)
      return JSON.parse(line) as {
        runDir: string
        processes: ReadonlyArray<{ name: string; pid: number }>
      }
    },
    { timeout: 300_000, interval: 500 },
  )
  onTestFinished(() => rmSync(ready.runDir, { recursive: true, force: true }))
  expect(ready.processes.map((p) => p.name)).toEqual([
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
  ])
  // Each component leads its own process group (a terminal's Ctrl-C to the owner's group misses them).
  for (const p of ready.processes) expect(processGroupOf(p.pid), p.name).toBe(p.pid)
  expect(await processesMentioning(ready.runDir)).toHaveLength(ready.processes.length)

  owner.child.kill("SIGKILL")
  expect(await owner.exited).toEqual({ code: null, signal: "SIGKILL" })
  await vi.waitFor(
    async () => {
      expect(ready.processes.filter((p) => isAlive(p.pid))).toEqual([])
      expect(await processesMentioning(ready.runDir)).toEqual([])
    },
    { timeout: 30_000, interval: 200 },
  )
}, 600_000)
