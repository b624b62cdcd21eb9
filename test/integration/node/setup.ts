// vitest globalSetup of the `node` project: one local control plane with a real node beside the
// kwok node (root only: it creates a network namespace, cgroups and a mount namespace).
import { readFileSync } from "node:fs"
import { Cause, Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import { startLocalCluster } from "../../../src/localcluster/cluster.ts"
import { kubeletSysctls } from "../../../src/localcluster/node/config.ts"
import type {} from "../setup/provided.ts"
import type {} from "./provided.ts"

export const readKernelSettings = (): Record<string, string> =>
  Object.fromEntries(kubeletSysctls.map((s) => [s.path, readFileSync(`/proc/sys/${s.path}`, "utf8").trim()]))

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const before = readKernelSettings()
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(startLocalCluster({ realNode: true }).pipe(Scope.provide(scope)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw new Error(`local control plane with a real node did not start: ${Cause.pretty(exit.cause)}`)
  }
  const info = exit.value
  const node = info.realNode
  if (node === undefined) throw new Error("startLocalCluster({ realNode: true }) returned no real node")
  project.provide("kubeconfigPath", info.kubeconfigPath)
  project.provide("kubectlPath", info.kubectlPath)
  project.provide("certManagerCrdsDir", info.certManagerCrdsDir)
  project.provide("realNodeName", node.nodeName)
  project.provide("realNodeNetns", node.netns)
  project.provide("realNodeHostIp", node.hostIp)
  project.provide("hostKernelSettingsBefore", before)
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
