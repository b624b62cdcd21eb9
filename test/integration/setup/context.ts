// Helpers for integration tests against the shared local control plane (see global.ts).
//
//   import { clusterTest as test, kubectl } from "../setup/context.ts"
//   test("…", async ({ namespace, kc }) => { … })
//
// `namespace` is a fresh, uniquely named Namespace whose `default` ServiceAccount already exists
// (so Pods can be created at once); it is deleted (without waiting) when the test ends.
// `kc` is a client-node KubeConfig for the admin user.
import { randomBytes } from "node:crypto"
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { inject, test, vi } from "vitest"
import type { CommandResult } from "../../../src/localcluster/command.ts"
import { kubectlPromise } from "../../../src/localcluster/kubectl.ts"

export const kubeconfigPath = (): string => inject("kubeconfigPath")
export const kubectlPath = (): string => inject("kubectlPath")
export const certManagerCrdsDir = (): string => inject("certManagerCrdsDir")

/** A client-node KubeConfig for the admin user of the test cluster. */
export const makeKubeConfig = (): KubeConfig => {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath())
  return kc
}

/** Runs kubectl against the test cluster; never throws on a non-zero exit (see `exitCode`). */
export const kubectl = (
  args: ReadonlyArray<string>,
  options: { readonly input?: string } = {},
): Promise<CommandResult> => kubectlPromise(kubectlPath(), kubeconfigPath(), args, options)

/** A DNS-1123 name: `<prefix>-<8 hex chars>`. */
export const uniqueName = (prefix: string): string => {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "t"
  return `${clean}-${randomBytes(4).toString("hex")}`
}

/** Creates a Namespace and waits for its `default` ServiceAccount (admission needs it for Pods). */
export const createNamespace = async (kc: KubeConfig, prefix = "test"): Promise<string> => {
  const core = kc.makeApiClient(CoreV1Api)
  const name = uniqueName(prefix)
  await core.createNamespace({ body: { metadata: { name, labels: { "langop.io/test": "true" } } } })
  await vi.waitFor(() => core.readNamespacedServiceAccount({ name: "default", namespace: name }), {
    timeout: 30_000,
    interval: 200,
  })
  return name
}

/** Starts deleting a Namespace; does not wait for it to be gone. 404 is fine. */
export const deleteNamespace = async (kc: KubeConfig, name: string): Promise<void> => {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch((e: unknown) => {
      if (!(typeof e === "object" && e !== null && "code" in e && e.code === 404)) throw e
    })
}

/** vitest `test` with the fixtures `kc` (admin KubeConfig) and `namespace` (fresh per test). */
export const clusterTest = test
  .extend("kc", { scope: "file" }, async () => makeKubeConfig())
  .extend("namespace", async ({ kc, task }, { onCleanup }) => {
    const name = await createNamespace(kc, task.name.slice(0, 30))
    onCleanup(() => deleteNamespace(kc, name))
    return name
  })
