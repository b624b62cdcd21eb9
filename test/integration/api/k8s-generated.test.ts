/**
 * `src/api/k8s/generated.ts` is what the generator writes from the pinned upstream OpenAPI documents.
 * It lives in the integration project because it needs the `k8s.io/kubernetes` module from the Go module
 * proxy (the same module the local control plane is built from; `openapi-path.sh` downloads it when the
 * module cache lacks it), so it runs wherever the integration tests run instead of skipping.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { generate, loadDefinitions } from "../../../src/api/k8s/generate.ts"
import { SOURCE } from "../../../src/api/k8s/generated.ts"
import { ROOTS } from "../../../src/api/k8s/roots.ts"

const ROOT = join(import.meta.dirname, "..", "..", "..")

describe("committed generated.ts", () => {
  it("is what the generator writes for the pinned upstream documents (run `npm run gen:k8s`)", () => {
    const specDir = execFileSync("bash", [join(ROOT, "test", "cluster", "openapi-path.sh")], {
      encoding: "utf8",
    }).trim()
    expect(specDir).toContain(`${SOURCE.module}@${SOURCE.version}`)
    const { definitions: upstream } = loadDefinitions(specDir)
    const committed = readFileSync(join(ROOT, "src", "api", "k8s", "generated.ts"), "utf8")
    expect(generate(upstream, ROOTS, SOURCE)).toBe(committed)
  })
})
