// The host side of a real node: its private dir, network namespace, veth link, cgroups and mount
// namespace, created before its daemons start and removed after they stop.
//
// Guarantees:
// - a node index is taken by creating its dir (`mkdir` is atomic), so concurrent harnesses on one
//   machine never share a namespace, addresses or cgroups; `state.json` in that dir names the owner
//   process, so a later start removes what a killed run left (see `reapStaleNodes`);
// - `teardownNode` is idempotent and complete: it kills every process in the node's cgroups (the
//   daemons, the shims and every container), unmounts the mount-namespace file (all mounts the
//   kubelet and containerd made live only in that namespace and go with it), deletes the network
//   namespace (with it the veth pair, the host route, every iptables rule of kube-proxy, portmap and
//   our isolation chain), removes the cgroups and the dir;
// - nothing here changes a machine-wide setting: sysctls are only written inside the node's network
//   namespace (its own `ip_forward` and bridge netfilter switch), and the only host objects are the
//   veth end with its /30 and the route to the node's pod range.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { runCommand } from "../command.ts"
import { ClusterStartError } from "../errors.ts"
import { isAlive } from "../rundir.ts"
import { kubeletSysctls, maxNodes, type NodeDirs, type NodePlan, planNode } from "./config.ts"

export interface NodeState {
  readonly ownerPid: number
  readonly index: number
  readonly nodeName: string
}

const fail = (message: string) => new ClusterStartError({ component: "real node", message, logs: "" })

/** Runs a command; fails with its stderr when it exits non-zero. */
export const sh = (file: string, args: ReadonlyArray<string>): Effect.Effect<string, ClusterStartError> =>
  runCommand(file, args, { timeoutMs: 60_000 }).pipe(
    Effect.flatMap((r) =>
      r.exitCode === 0
        ? Effect.succeed(r.stdout)
        : Effect.fail(fail(`${file} ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`)),
    ),
  )

/** Runs a command whose failure only means "already gone". */
const quiet = (file: string, args: ReadonlyArray<string>) => runCommand(file, args, { timeoutMs: 60_000 })

const statePath = (dir: string) => join(dir, "state.json")

export const readNodeState = (dir: string): NodeState | undefined => {
  try {
    return JSON.parse(readFileSync(statePath(dir), "utf8")) as NodeState
  } catch {
    return undefined
  }
}

/** The cgroup v1 hierarchies mounted on this machine (`/sys/fs/cgroup/<name>`), from /proc/mounts. */
export const cgroupV1Hierarchies = (
  mounts: string = readFileSync("/proc/mounts", "utf8"),
): ReadonlyArray<string> =>
  mounts
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[2] === "cgroup" && f[1] !== undefined)
    .map((f) => f[1] ?? "")

/** Every cgroup dir of the node, deepest first (so they can be removed in this order). */
const cgroupDirs = (plan: NodePlan): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name))
    out.push(dir)
  }
  for (const h of cgroupV1Hierarchies()) {
    const top = join(h, plan.cgroup)
    if (existsSync(top)) walk(top)
  }
  return out
}

const pidsIn = (dirs: ReadonlyArray<string>): ReadonlyArray<number> => {
  const pids = new Set<number>()
  for (const d of dirs) {
    try {
      for (const l of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n"))
        if (l !== "") pids.add(Number(l))
    } catch {
      // removed meanwhile
    }
  }
  return [...pids]
}

/** Creates `/<plan.cgroup>/node` in every v1 hierarchy (cpuset needs its cpus/mems copied down). */
export const createCgroups = (plan: NodePlan): Effect.Effect<ReadonlyArray<string>, ClusterStartError> =>
  Effect.try({
    try: () => {
      const joined: Array<string> = []
      for (const h of cgroupV1Hierarchies()) {
        const top = join(h, plan.cgroup)
        const node = join(top, "node")
        mkdirSync(node, { recursive: true })
        if (existsSync(join(h, "cpuset.cpus"))) {
          for (const f of ["cpuset.cpus", "cpuset.mems"]) {
            const v = readFileSync(join(h, f), "utf8").trim()
            writeFileSync(join(top, f), v)
            writeFileSync(join(node, f), v)
          }
        }
        joined.push(join(node, "cgroup.procs"))
      }
      return joined
    },
    catch: (e) => fail(`cannot create the node's cgroups ${plan.cgroup}: ${String(e)}`),
  })

/** Takes the lowest free node index by creating its dir; writes the owner record. */
export const claimNode = (
  nodesRoot: string,
  nodeName: string,
): Effect.Effect<{ readonly plan: NodePlan; readonly dir: string }, ClusterStartError> =>
  Effect.try({
    try: () => {
      mkdirSync(nodesRoot, { recursive: true })
      for (let i = 0; i < maxNodes; i++) {
        const plan = planNode(i, nodeName)
        const dir = join(nodesRoot, plan.netns)
        try {
          mkdirSync(dir)
        } catch {
          continue
        }
        const state: NodeState = { ownerPid: process.pid, index: i, nodeName }
        writeFileSync(statePath(dir), JSON.stringify(state, null, 2))
        return { plan, dir }
      }
      throw new Error(`all ${maxNodes} node slots in ${nodesRoot} are taken`)
    },
    catch: (e) => fail(e instanceof Error ? e.message : String(e)),
  })

/** Network namespace, veth pair, addresses, routes, and the namespace's own sysctls and isolation. */
export const createNetwork = (plan: NodePlan): Effect.Effect<void, ClusterStartError> =>
  Effect.gen(function* () {
    const inNs = (file: string, args: ReadonlyArray<string>) =>
      sh("ip", ["netns", "exec", plan.netns, file, ...args])
    yield* sh("ip", ["netns", "add", plan.netns])
    yield* sh("ip", [
      "link",
      "add",
      plan.hostVeth,
      "type",
      "veth",
      "peer",
      "name",
      plan.nodeVeth,
      "netns",
      plan.netns,
    ])
    yield* sh("ip", ["addr", "add", `${plan.hostIp}/${plan.linkPrefix}`, "dev", plan.hostVeth])
    yield* sh("ip", ["link", "set", plan.hostVeth, "up"])
    yield* inNs("ip", ["link", "set", "lo", "up"])
    yield* inNs("ip", ["addr", "add", `${plan.nodeIp}/${plan.linkPrefix}`, "dev", plan.nodeVeth])
    yield* inNs("ip", ["link", "set", plan.nodeVeth, "up"])
    // The API server (host) reaches webhooks and other pods by their IPs.
    yield* sh("ip", ["route", "add", plan.podCidr, "via", plan.nodeIp, "dev", plan.hostVeth])
    // Both are per network namespace: routing between the pods' bridge and the node, and iptables
    // seeing bridged traffic (a pod reaching a Service backed by a pod on the same bridge).
    yield* inNs("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"])
    // Nothing in the node may open connections to the host: the API server is reached through
    // nsproxy on the node's own addresses; replies to the host's connections stay allowed.
    yield* inNs("iptables", ["-w", "-N", "LANGOP-NODE-ISOLATION"])
    yield* inNs("iptables", [
      "-w",
      "-A",
      "LANGOP-NODE-ISOLATION",
      "-d",
      plan.hostIp,
      "-m",
      "conntrack",
      "--ctstate",
      "NEW",
      "-j",
      "REJECT",
    ])
    for (const chain of ["OUTPUT", "FORWARD"])
      yield* inNs("iptables", ["-w", "-I", chain, "1", "-j", "LANGOP-NODE-ISOLATION"])
  })

/**
 * A persistent mount namespace (bound to `dirs.mountNs`) for all the node's daemons: a private
 * /run (containerd's and the shims' fixed paths under /run/containerd, the iptables lock) and the
 * kubelet's kernel tunables covered by files holding the values it wants.
 */
export const createMountNamespace = (dirs: NodeDirs): Effect.Effect<void, ClusterStartError> =>
  Effect.gen(function* () {
    mkdirSync(dirs.sysctlDir, { recursive: true })
    mkdirSync(join(dirs.mountNs, ".."), { recursive: true })
    writeFileSync(dirs.mountNs, "")
    const binds = kubeletSysctls.map((s) => {
      const file = join(dirs.sysctlDir, s.path.replaceAll("/", "."))
      writeFileSync(file, `${s.value}\n`)
      return `mount --bind '${file}' '/proc/sys/${s.path}'`
    })
    const script = ["set -e", "mount -t tmpfs -o mode=0755,size=256m langop-node-run /run", ...binds].join(
      "\n",
    )
    yield* sh("unshare", [`--mount=${dirs.mountNs}`, "--propagation", "private", "sh", "-c", script])
  })

/** Removes everything of one node (idempotent; each step tolerates "already gone"). */
export const teardownNode = (plan: NodePlan, dir: string): Effect.Effect<void> =>
  Effect.gen(function* () {
    // Freeze first, so nothing forks while being killed; then kill, thaw, and wait for the exits.
    const freezer = cgroupV1Hierarchies().find((h) => h.endsWith("/freezer"))
    const frozen = freezer !== undefined ? join(freezer, plan.cgroup, "freezer.state") : undefined
    for (let round = 0; round < 50; round++) {
      const pids = pidsIn(cgroupDirs(plan))
      if (pids.length === 0) break
      if (frozen !== undefined && existsSync(frozen)) writeFileSync(frozen, "FROZEN")
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {
          // gone
        }
      }
      if (frozen !== undefined && existsSync(frozen)) writeFileSync(frozen, "THAWED")
      yield* Effect.sleep("100 millis")
    }
    // Host-side mounts under the node's dir: the mount-namespace file (and anything else found).
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m === dir || m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length)
    for (const m of mounts) yield* quiet("umount", ["-l", m])
    yield* quiet("ip", ["netns", "delete", plan.netns])
    yield* quiet("ip", ["link", "delete", plan.hostVeth])
    for (const d of cgroupDirs(plan)) {
      try {
        // A cgroup dir goes with rmdir (its control files are not real files).
        rmdirSync(d)
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true })
  })

/**
 * Removes the nodes whose owner process is gone, and network namespaces named like ours that no
 * node dir claims (a run killed between creating one and writing its record cannot leave these:
 * the dir is created first). Returns what was removed.
 */
export const reapStaleNodes = (nodesRoot: string): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const reaped: Array<string> = []
    const claimed = new Set<string>()
    if (existsSync(nodesRoot)) {
      for (const entry of readdirSync(nodesRoot)) {
        const dir = join(nodesRoot, entry)
        const state = readNodeState(dir)
        // No record yet: a harness is between claiming the dir and writing it, unless that was long ago.
        const claiming = state === undefined && Date.now() - statSync(dir).mtimeMs < 60_000
        if (claiming || (state !== undefined && isAlive(state.ownerPid))) {
          claimed.add(entry)
          continue
        }
        const index = Number(entry.replace(/^langop-node-/, ""))
        if (!Number.isInteger(index) || index < 0 || index >= maxNodes) continue
        yield* teardownNode(planNode(index, state?.nodeName ?? ""), dir)
        reaped.push(dir)
      }
    }
    const listed = yield* quiet("ip", ["netns", "list"])
    for (const line of listed.stdout.split("\n")) {
      const name = line.split(" ")[0] ?? ""
      const m = /^langop-node-(\d+)$/.exec(name)
      if (m === null || claimed.has(name)) continue
      if (existsSync(join(nodesRoot, name))) continue
      yield* teardownNode(planNode(Number(m[1]), ""), join(nodesRoot, name))
      reaped.push(`netns ${name}`)
    }
    return reaped
  })
