/**
 * The documentation under docs/ holds together: generated pages are what the code generates, every
 * relative link and anchor resolves, and the API reference names exactly the upstream types the kinds
 * embed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { describe, expect, it } from "vitest"
import { allKinds } from "../../../src/api/index.ts"
import { ROOTS } from "../../../src/api/k8s/roots.ts"
import { openApiSchemaOf } from "../../../src/crd/generate.ts"
import { anchorOf, headingsOf, relativeLinksOf } from "../../../src/docs/markdown.ts"
import { generatedPages } from "../../../src/docs/pages.ts"
import { fieldRows } from "../../../src/docs/reference.ts"

const ROOT = join(import.meta.dirname, "..", "..", "..")
const read = (path: string) => readFileSync(join(ROOT, path), "utf8")

const markdownFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith(".md")
        ? [join(dir, entry.name)]
        : [],
  )

describe("docs/", () => {
  it("holds exactly the generated pages the code generates (run `npm run docs`)", () => {
    for (const [path, text] of generatedPages()) expect(read(path), path).toBe(text)
  })

  it("has a guide for every kind and the pages the README points to", () => {
    for (const kind of allKinds) expect(existsSync(join(ROOT, "docs", `${kind.singular}.md`))).toBe(true)
    for (const page of ["README.md", "architecture.md", "concepts.md", "admission.md"])
      expect(existsSync(join(ROOT, "docs", page)), page).toBe(true)
  })

  const pages = [...markdownFiles("docs"), "README.md", join("deploy", "README.md")]
  it.each(pages)("%s: every relative link and anchor resolves", (page) => {
    const broken: string[] = []
    for (const link of relativeLinksOf(read(page))) {
      const [path = "", anchor] = link.split("#")
      const target = path === "" ? page : normalize(join(dirname(page), path))
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${link}: no such file`)
        continue
      }
      if (anchor !== undefined && target.endsWith(".md")) {
        const anchors = headingsOf(read(target)).map(anchorOf)
        if (!anchors.includes(anchor)) broken.push(`${link}: no heading with anchor #${anchor}`)
      }
    }
    expect(broken).toEqual([])
  })

  it("the API reference names exactly the upstream types listed in src/api/k8s/roots.ts", () => {
    const named = new Set<string>()
    for (const kind of allKinds) {
      for (const row of fieldRows(openApiSchemaOf(kind.spec), "spec"))
        for (const match of row.type.matchAll(/(?:core|meta|networking)\.v1\.(\w+)/g))
          if (match[1] !== undefined) named.add(match[1])
    }
    expect([...named].sort()).toEqual(ROOTS.map((root) => root.slice(root.lastIndexOf(".") + 1)).sort())
  })
})

describe("anchorOf", () => {
  it.each([
    [
      "9. Egress NetworkPolicy algorithm (agents, service-mode tools, models)",
      "9-egress-networkpolicy-algorithm-agents-service-mode-tools-models",
    ],
    ["6.1 Agent container (`agent`)", "61-agent-container-agent"],
    ["Pod / Deployment", "pod--deployment"],
    ["Safety, approvals, rate limits", "safety-approvals-rate-limits"],
  ])("%s → #%s", (heading, anchor) => expect(anchorOf(heading)).toBe(anchor))
})
