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
  const names = allKinds.map((kind) => `crd/${crdName(kind)}`)
  const waited = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names])
  if (waited.exitCode !== 0) throw new Error(`CRDs did not become Established:\n${waited.stderr}`)
}
