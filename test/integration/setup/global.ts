// vitest globalSetup of the `integration` project: ONE local control plane per test run.
// If LANGOP_TEST_KUBECONFIG is set, that (already running) cluster is used instead and nothing is
// started or stopped; kubectl then comes from LANGOP_TEST_KUBECTL, else from `npm run cluster:up`'s
// state file, else from the build cache (build.sh, a no-op when warm).
// The `unit` project has no global setup, so `vitest run --project unit` never starts a cluster.
import { Cause, Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import { ensureBinaries } from "../../../src/localcluster/binaries.ts"
import { startLocalCluster } from "../../../src/localcluster/cluster.ts"
import { readState } from "../../../src/localcluster/state.ts"

const external = async (project: TestProject, kubeconfigPath: string) => {
  const state = readState()
  const fromState = state?.kubeconfigPath === kubeconfigPath ? state : undefined
  const needBuild =
    process.env.LANGOP_TEST_KUBECTL === undefined || fromState?.certManagerCrdsDir === undefined
  const bins = needBuild ? await Effect.runPromise(ensureBinaries()) : undefined
  project.provide("kubeconfigPath", kubeconfigPath)
  project.provide(
    "kubectlPath",
    process.env.LANGOP_TEST_KUBECTL ?? fromState?.kubectlPath ?? bins?.kubectl ?? "kubectl",
  )
  project.provide("certManagerCrdsDir", fromState?.certManagerCrdsDir ?? bins?.certManagerCrdsDir ?? "")
  console.error(`[cluster] using the running cluster of LANGOP_TEST_KUBECONFIG=${kubeconfigPath}`)
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const kubeconfig = process.env.LANGOP_TEST_KUBECONFIG
  if (kubeconfig !== undefined && kubeconfig !== "") {
    await external(project, kubeconfig)
    return undefined
  }
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(startLocalCluster().pipe(Scope.provide(scope)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw new Error(`local control plane did not start: ${Cause.pretty(exit.cause)}`)
  }
  const info = exit.value
  project.provide("kubeconfigPath", info.kubeconfigPath)
  project.provide("kubectlPath", info.kubectlPath)
  project.provide("certManagerCrdsDir", info.certManagerCrdsDir)
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
