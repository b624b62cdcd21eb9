/**
 * The repository documents itself: code, tests, manifests and the README cite `docs/` (a section
 * `docs/<page>.md §<Heading>` or a decision `docs/<page>.md <ID>`), never a document outside the
 * repository, and every citation names a section or decision that exists.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { headingsOf } from "../../../src/docs/markdown.ts"

const ROOT = join(import.meta.dirname, "..", "..", "..")

const filesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : filesUnder(path)
    return /\.(ts|md|yaml|json|sh|go)$/.test(entry.name) ? [path] : []
  })

const sources = [...filesUnder("src"), ...filesUnder("test"), ...filesUnder("deploy"), "README.md"].filter(
  // This file spells out the forbidden forms in its own patterns.
  (path) => !path.endsWith("citations.test.ts"),
)

const page = (name: string) => readFileSync(join(ROOT, "docs", name), "utf8")

describe("citations", () => {
  it("nothing refers to a document outside the repository", () => {
    const outside = [
      /shared\/spec/,
      /(?<![\w/.-])(?:language(?:agent|tool|model|persona|client|cluster)|ADMISSION)\.md/,
      /README §\d/,
      /README X-\d/,
      /(?<!docs\/[\w.]+\.md )\b(?:AG|TL|LM|PE|CL|LC|X)-\d+\b/,
    ]
    const found: string[] = []
    for (const path of sources) {
      const lines = readFileSync(join(ROOT, path), "utf8").split("\n")
      lines.forEach((line, index) => {
        for (const pattern of outside)
          if (pattern.test(line))
            found.push(`${relative(ROOT, join(ROOT, path))}:${index + 1}: ${line.trim()}`)
      })
    }
    expect(found).toEqual([])
  })

  it("every docs/ citation names a page, section or decision that exists", () => {
    const broken: string[] = []
    for (const path of sources) {
      const text = readFileSync(join(ROOT, path), "utf8")
      for (const match of text.matchAll(/docs\/([\w-]+\.md)(?: (§[\w.]+|[A-Z]+-\d+))?/g)) {
        const [citation, file = "", target] = match
        let content: string
        try {
          content = page(file)
        } catch {
          broken.push(`${path}: ${citation} (no such page)`)
          continue
        }
        if (target === undefined) continue
        if (target.startsWith("§")) {
          const name = target.slice(1).replace(/\.$/, "")
          if (
            !headingsOf(content).some(
              (heading) =>
                heading === name ||
                heading.startsWith(`${name} `) ||
                heading.startsWith(`${name}.`) ||
                heading.startsWith(`${name},`),
            )
          )
            broken.push(`${path}: ${citation} (no such section)`)
        } else if (!content.includes(`**${target} `)) broken.push(`${path}: ${citation} (no such decision)`)
      }
    }
    expect(broken).toEqual([])
  })
})
