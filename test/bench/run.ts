// `npm run bench`: runs every test/bench/*.ts (except this file) in its own Node process with
// --expose-gc (so memory figures are taken after a full GC and one bench cannot disturb another)
// and prints ONE JSON document: { node, platform, cpus, startedAt, benches: { <name>: <result> } }.
// Contract for a bench file: when executed, print its result as a single JSON document on the last
// line of stdout; exit non-zero on failure.
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { cpus } from "node:os"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const dir = dirname(fileURLToPath(import.meta.url))
// Bare words pick benches by name; `--flags` (with their values) go to every bench: `npm run bench --
// convergence --n 1000`, `--large`, `--idle 60`.
const valueFlags = new Set(["--n", "--idle", "--kinds", "--profile"])
const only: Array<string> = []
const passed: Array<string> = []
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] ?? ""
  if (!a.startsWith("--")) only.push(a)
  else {
    passed.push(a)
    if (valueFlags.has(a) && i + 1 < argv.length) passed.push(argv[++i] ?? "")
  }
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".test.ts"))
  .filter((f) => only.length === 0 || only.includes(basename(f, ".ts")))
  .sort()

const benches: Record<string, unknown> = {}
let failed = false
for (const file of files) {
  const name = basename(file, ".ts")
  const r = spawnSync(process.execPath, ["--expose-gc", join(dir, file), ...passed], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  })
  const last = r.stdout.trim().split("\n").pop() ?? ""
  if (r.status !== 0) {
    failed = true
    benches[name] = { error: `exit ${String(r.status ?? r.signal)}`, output: r.stdout.slice(-2000) }
    continue
  }
  try {
    benches[name] = JSON.parse(last)
  } catch {
    failed = true
    benches[name] = { error: "last stdout line is not JSON", output: last.slice(0, 2000) }
  }
}

console.log(
  JSON.stringify(
    {
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      cpus: cpus().length,
      startedAt: new Date().toISOString(),
      benches,
    },
    null,
    2,
  ),
)
process.exitCode = failed ? 1 : 0
