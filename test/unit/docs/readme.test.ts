/** The README's settings table is the one `src/settings.ts` renders; `npm run readme` rewrites it. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { readmeSettingsBlock, replaceSettingsBlock } from "../../../src/docs/readme.ts"

const README = join(import.meta.dirname, "..", "..", "..", "README.md")

describe("README", () => {
  it("shows exactly the settings src/settings.ts defines (run `npm run readme` after changing them)", () => {
    const text = readFileSync(README, "utf8")
    expect(replaceSettingsBlock(text)).toBe(text)
    expect(text).toContain(readmeSettingsBlock())
  })

  it("states the two commands of the project's contract", () => {
    const text = readFileSync(README, "utf8")
    expect(text).toContain("npm ci && npm start")
    expect(text).toContain("npm ci && npm test")
  })
})
