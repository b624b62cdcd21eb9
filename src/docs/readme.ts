/**
 * Generated parts of README.md: the settings table comes from `src/settings.ts` so the two cannot drift.
 * `npm run readme` rewrites the block; a unit test fails when it is stale.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { settingsMarkdown } from "../settings.ts"

const BEGIN = "<!-- settings:begin (generated from src/settings.ts) -->"
const END = "<!-- settings:end -->"

export const readmeSettingsBlock = (): string => `${BEGIN}\n${settingsMarkdown().trimEnd()}\n${END}`

/** `text` with the settings block replaced by the current one (unchanged when it is up to date). */
export const replaceSettingsBlock = (text: string): string => {
  const start = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (start < 0 || end < start) throw new Error("README.md has no settings block markers")
  return `${text.slice(0, start)}${readmeSettingsBlock()}${text.slice(end + END.length)}`
}

if (process.argv[1] === import.meta.filename) {
  const path = join(import.meta.dirname, "..", "..", "README.md")
  writeFileSync(path, replaceSettingsBlock(readFileSync(path, "utf8")))
  console.log("README.md settings table updated")
}
