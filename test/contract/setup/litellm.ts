/**
 * Installs the pinned LiteLLM proxy into a virtualenv cached OUTSIDE the repository, for the contract
 * tests in test/contract/litellm.
 *
 * Guarantees:
 * - works from nothing with only `python3` (≥ 3.9, with the `venv` module) and PyPI;
 * - idempotent: a finished install is marked by `<venv>/.langop-complete` holding the exact pins, so a
 *   second call returns at once and a changed pin reinstalls;
 * - safe to call concurrently (several vitest workers or processes): one caller installs under a lock
 *   directory (atomic `mkdir`), the others wait for the marker; a lock left by a dead process is taken
 *   over;
 * - prints progress to stderr (an install takes one to two minutes).
 *
 * Why this version: 1.83.10 is the `v1.83.10-stable` release (signed images
 * `ghcr.io/berriai/litellm:v1.83.10-stable`), after LiteLLM moved Prometheus metrics out of the
 * enterprise licence (docs/languagemodel.md LM-9) and before later releases refused to start without a master key (docs/languagemodel.md LM-10
 * keeps the proxy unauthenticated); it also avoids the releases withdrawn after supply-chain
 * compromises. `litellm[proxy]` does not pull `prometheus_client`, which the official image installs
 * from LiteLLM's requirements.txt at the version pinned here.
 *
 * Cache location: `$LANGOP_LITELLM_CACHE`, else `$XDG_CACHE_HOME/langop-litellm`, else
 * `~/.cache/langop-litellm`; the venv is `<cache>/<version>/venv`.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"

export const LITELLM_VERSION = "1.83.10"
/** The image the operator runs (src/settings.ts `modelProxyImage` default should name the same version). */
export const LITELLM_IMAGE = `ghcr.io/berriai/litellm:v${LITELLM_VERSION}-stable`
export const PIP_REQUIREMENTS: ReadonlyArray<string> = [
  `litellm[proxy]==${LITELLM_VERSION}`,
  "prometheus_client==0.20.0",
]

export interface LiteLLMInstall {
  readonly version: string
  readonly venv: string
  /** The `litellm` CLI of the venv. */
  readonly litellm: string
  /** The venv's python (for introspection scripts). */
  readonly python: string
  /** Seconds spent installing in this call (0 when the cache was already complete). */
  readonly installSeconds: number
}

const log = (message: string) => process.stderr.write(`[litellm-setup] ${message}\n`)

export const cacheRoot = (): string =>
  process.env.LANGOP_LITELLM_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "langop-litellm")

const run = (command: string, args: ReadonlyArray<string>, label: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let tail = ""
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-8000)
    }
    const heartbeat = setInterval(() => log(`${label}: still running…`), 20_000)
    child.stdout.on("data", keep)
    child.stderr.on("data", keep)
    child.on("error", (e) => {
      clearInterval(heartbeat)
      reject(new Error(`${label}: cannot run ${command}: ${e.message}`))
    })
    child.on("close", (code) => {
      clearInterval(heartbeat)
      if (code === 0) resolve()
      else reject(new Error(`${label} failed (exit ${code}):\n${tail}`))
    })
  })

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const markerText = () => `${PIP_REQUIREMENTS.join("\n")}\n`

const complete = async (venv: string): Promise<boolean> => {
  const marker = join(venv, ".langop-complete")
  if (!existsSync(marker) || !existsSync(join(venv, "bin", "litellm"))) return false
  return (await readFile(marker, "utf8")) === markerText()
}

const result = (venv: string, installSeconds: number): LiteLLMInstall => ({
  version: LITELLM_VERSION,
  venv,
  litellm: join(venv, "bin", "litellm"),
  python: join(venv, "bin", "python"),
  installSeconds,
})

/** Takes the lock directory, waiting for (or taking over from) another installer. */
const acquire = async (lock: string, venv: string): Promise<"locked" | "done"> => {
  for (let waited = 0; ; waited += 2) {
    try {
      await mkdir(lock)
      await writeFile(join(lock, "pid"), String(process.pid))
      return "locked"
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
    }
    if (await complete(venv)) return "done"
    const owner = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"))
    const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    // No pid yet is normal for a moment after mkdir; an old lock without pid is abandoned.
    if ((owner > 0 && !pidAlive(owner)) || (owner === 0 && age > 30_000)) {
      log(`removing stale lock ${lock} (owner ${owner || "unknown"})`)
      await rm(lock, { recursive: true, force: true })
      continue
    }
    if (waited % 20 === 0) log(`waiting for another install (pid ${owner}) to finish…`)
    await sleep(2000)
  }
}

/** Ensures the pinned LiteLLM is installed; returns its paths. */
export const ensureLiteLLM = async (): Promise<LiteLLMInstall> => {
  const dir = join(cacheRoot(), LITELLM_VERSION)
  const venv = join(dir, "venv")
  if (await complete(venv)) return result(venv, 0)
  await mkdir(dir, { recursive: true })
  const lock = join(dir, "install.lock")
  if ((await acquire(lock, venv)) === "done") return result(venv, 0)
  const started = Date.now()
  try {
    if (await complete(venv)) return result(venv, 0)
    const python = process.env.PYTHON ?? "python3"
    log(`installing LiteLLM ${LITELLM_VERSION} into ${venv} (one-time, about 1-2 minutes)`)
    await rm(venv, { recursive: true, force: true })
    await run(python, ["-m", "venv", venv], "python3 -m venv")
    log("venv created; pip install (downloads ~150 MB of wheels)")
    const pip = join(venv, "bin", "pip")
    await run(
      pip,
      ["install", "--disable-pip-version-check", "--no-input", "--quiet", ...PIP_REQUIREMENTS],
      `pip install ${PIP_REQUIREMENTS.join(" ")}`,
    )
    await writeFile(join(venv, ".langop-complete"), markerText())
    const seconds = Math.round((Date.now() - started) / 1000)
    log(`LiteLLM ${LITELLM_VERSION} installed in ${seconds}s`)
    return result(venv, seconds)
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

// `node test/contract/setup/litellm.ts` installs (or checks) the cache from a shell.
if (import.meta.url === `file://${process.argv[1]}`) {
  ensureLiteLLM().then(
    (r) => log(`ready: ${r.litellm} (install ${r.installSeconds}s)`),
    (e: unknown) => {
      log(String(e))
      process.exitCode = 1
    },
  )
}
