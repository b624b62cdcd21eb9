// Removal of a real node's host objects: on stop, and by the next start after a killed run.
// Builds the host side of a node (no Kubernetes daemons: a `sleep` stands in for them, inside the
// node's cgroups, network and mount namespaces) and checks that nothing is left afterwards.
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { nodesRoot } from "../../../src/localcluster/node/build.ts"
import { type NodePlan, nodeDirs } from "../../../src/localcluster/node/config.ts"
import {
  cgroupV1Hierarchies,
  claimNode,
  createCgroups,
  createMountNamespace,
  createNetwork,
  reapStaleNodes,
  teardownNode,
} from "../../../src/localcluster/node/host.ts"
import { isAlive } from "../../../src/localcluster/rundir.ts"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

/** A node's host side with one process inside it; returns what a check needs. */
const buildNodeHost = async () => {
  const { plan, dir } = await run(claimNode(nodesRoot(), "host-test"))
  const dirs = nodeDirs(dir, "/nonexistent")
  await run(createNetwork(plan))
  const procs = await run(createCgroups(plan))
  await run(createMountNamespace(dirs))
  const enter = `set -e; ${procs.map((f) => `echo $$ > '${f}'`).join("; ")}`
  const child = spawn(
    "sh",
    [
      "-c",
      `${enter}; exec "$@"`,
      "sh",
      "nsenter",
      `--net=/run/netns/${plan.netns}`,
      `--mount=${dirs.mountNs}`,
      "--",
      "sleep",
      "600",
    ],
    { detached: true, stdio: "ignore" },
  )
  child.unref()
  const pid = child.pid ?? 0
  // In the node's cgroup (pids hierarchy), so a stop can find it.
  await expect.poll(() => readFileSync(join_(plan, "pids"), "utf8")).toContain(String(pid))
  return { plan, dir, pid }
}
const join_ = (plan: NodePlan, hierarchy: string) =>
  join("/sys/fs/cgroup", hierarchy, plan.cgroup, "node", "cgroup.procs")

const leftovers = (plan: NodePlan, dir: string, pid: number) => ({
  netns: execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).includes(plan.netns),
  veth: spawnSync("ip", ["link", "show", plan.hostVeth]).status === 0,
  route: execFileSync("ip", ["route"], { encoding: "utf8" }).includes(plan.podCidr),
  mounts: readFileSync("/proc/self/mountinfo", "utf8").includes(dir),
  cgroups: cgroupV1Hierarchies().filter((h) => existsSync(join(h, plan.cgroup))),
  process: isAlive(pid),
  dir: existsSync(dir),
})
const nothingLeft = {
  netns: false,
  veth: false,
  route: false,
  mounts: false,
  cgroups: [],
  process: false,
  dir: false,
}

describe("real node host objects", () => {
  it("exist while the node runs and are all gone after teardown", async () => {
    const { plan, dir, pid } = await buildNodeHost()
    expect(leftovers(plan, dir, pid)).toMatchObject({
      netns: true,
      veth: true,
      route: true,
      mounts: true,
      process: true,
    })
    await run(teardownNode(plan, dir))
    expect(leftovers(plan, dir, pid)).toEqual(nothingLeft)
  })

  it("of a killed run are removed by the next start", async () => {
    const { plan, dir, pid } = await buildNodeHost()
    // The owner dies without tearing down: record an owner PID that no longer exists.
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim()
    writeFileSync(
      join(dir, "state.json"),
      JSON.stringify({ ownerPid: Number(dead), index: plan.index, nodeName: "host-test" }),
    )
    const reaped = await run(reapStaleNodes(nodesRoot()))
    expect(reaped).toContain(dir)
    expect(leftovers(plan, dir, pid)).toEqual(nothingLeft)
  })
})
