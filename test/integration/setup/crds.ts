/**
 * Installs (or updates) the generated CRDs from `crds/` into the test cluster and waits until every one is
 * Established. Idempotent and safe to call from several test files: server-side apply under one field
 * manager, so repeated installs by several files never conflict over field ownership.
 */
import { join } from "node:path"
import { allKinds } from "../../../src/api/index.ts"
import { crdName } from "../../../src/crd/generate.ts"
import { kubectl } from "./context.ts"

const CRD_DIR = join(import.meta.dirname, "..", "..", "..", "crds")

export const installCrds = async (): Promise<void> => {
  const applied = await kubectl([
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager=langop-tests",
    "-f",
    CRD_DIR,
  ])
  if (applied.exitCode !== 0) throw new Error(`installing CRDs failed:\n${applied.stderr}`)
  await waitEstablished(allKinds.map((kind) => crdName(kind)))
}

/**
 * Waits until every named CRD is Established. Polls the condition instead of `kubectl wait`, which
 * fails at once ("accessor error: <nil>") when it reads a CRD whose status has no conditions yet.
 */
export const waitEstablished = async (names: ReadonlyArray<string>, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (const name of names) {
    for (;;) {
      const r = await kubectl([
        "get",
        `crd/${name}`,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ])
      if (r.exitCode === 0 && r.stdout.trim() === "True") break
      if (Date.now() > deadline)
        throw new Error(`CRD ${name} did not become Established: ${r.stderr || r.stdout || "no condition"}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}
