// The container image carries what the operator runs and nothing else, on the Node release it is tested
// with. (test/integration/start/image.test.ts runs exactly these files against the control plane.)
import { readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { describe, expect, it } from "vitest"
import { copies, imageFiles, inContext, instruction, repoRoot } from "./image-files.ts"

/** Relative modules `file` imports statically (`import … from "./x.ts"`, `export … from`). */
const staticImports = (file: string): Array<string> => {
  const text = readFileSync(join(repoRoot, file), "utf8")
  return [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)"/gmu)].map((m) =>
    normalize(join(dirname(file), m[1] ?? "")),
  )
}

const closure = (entry: string): Set<string> => {
  const seen = new Set<string>()
  const queue = [entry]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    queue.push(...staticImports(file))
  }
  return seen
}

describe("deploy/Dockerfile", () => {
  const files = imageFiles()

  it("copies every module the operator loads (everything src/main.ts imports, transitively)", () => {
    const needed = [...closure("src/main.ts")]
    expect(needed.length).toBeGreaterThan(50)
    expect(needed.filter((f) => !files.includes(f))).toEqual([])
  })

  it("leaves out the local control plane, the generators and every test", () => {
    expect(files.filter((f) => /^(src\/localcluster|src\/docs|test)\//u.test(f))).toEqual([])
    for (const f of [
      "src/operator/local.ts",
      "src/crd/cli.ts",
      "src/operator/manifests-cli.ts",
      "src/api/k8s/generate.ts",
    ])
      expect(files, f).not.toContain(f)
    // The operator reaches the local control plane only through a dynamic import it turns into a sentence.
    expect(closure("src/main.ts").has("src/operator/local.ts")).toBe(false)
    expect(readFileSync(join(repoRoot, "src/main.ts"), "utf8")).toContain('import("./operator/local.ts")')
  })

  it("reads .dockerignore as Docker does: later lines win, a directory rule covers its files", () => {
    expect(inContext("src/main.ts")).toBe(true)
    expect(inContext("src/localcluster/cluster.ts")).toBe(false)
    expect(inContext("test/unit/deploy/image.test.ts")).toBe(false)
    expect(inContext("certs/pki.ts")).toBe(true)
    expect(inContext("certs/mint.ts")).toBe(false)
    expect(copies().flatMap((c) => c.sources)).toEqual([
      "package.json",
      "package-lock.json",
      "src",
      "certs/pki.ts",
    ])
  })

  it("starts from the exact Node release the repository is tested with", () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string }>
    }
    const tested = lock.packages["node_modules/node"]?.version
    expect(tested).toMatch(/^24\.\d+\.\d+$/u)
    expect(instruction("FROM")).toEqual([`node:${tested}-bookworm-slim`])
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      engines?: { node?: string }
    }
    expect(pkg.engines?.node).toBe(">=24")
  })
})
