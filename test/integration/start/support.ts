// Running `npm start`'s command (`node src/main.ts`) as a child process, as a user would: capture its
// output, wait for a line, stop it with a signal and collect its exit.
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { dirname, join } from "node:path"

export const repoRoot = join(import.meta.dirname, "..", "..", "..")

/** A port nothing listens on right now (127.0.0.1). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Loopback ports for the three listeners, so parallel work on this machine does not collide. */
export const portEnv = async (): Promise<Record<string, string> & { readonly health: string }> => {
  const [webhook, health, metrics] = [await freePort(), await freePort(), await freePort()]
  return {
    LANGOP_WEBHOOK_PORT: String(webhook),
    LANGOP_HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${health}`,
    LANGOP_METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
    health: `http://127.0.0.1:${health}`,
  }
}

export interface Started {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first stderr match of `re`; rejects on exit or timeout (with the output so far). */
  readonly waitForStderr: (re: RegExp, timeoutMs: number) => Promise<RegExpMatchArray>
  /** Resolves with the exit once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /**
   * Sends `signal` (default SIGINT, what Ctrl-C sends) and waits for the exit (SIGKILL after `timeoutMs`).
   * Started with `processGroup`, the signal goes to the whole process group, as a terminal's Ctrl-C does.
   */
  readonly stop: (
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `command args` in `cwd` with exactly `env` (nothing inherited but what the caller passes), with
 * Node 24 (the test runner's own binary) first on PATH as `node`.
 */
export const start = (
  command: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  cwd: string = repoRoot,
  options: {
    /** Run it as the leader of its own process group, as a shell runs a foreground job in a terminal. */
    readonly processGroup?: boolean
  } = {},
): Started => {
  const [file = "node", ...args] = command
  const path = `${dirname(process.execPath)}:${env.PATH ?? process.env.PATH ?? ""}`
  const child = spawn(file === "node" ? process.execPath : file, args, {
    cwd,
    env: Object.fromEntries(Object.entries({ ...env, PATH: path }).filter(([, v]) => v !== undefined)),
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.processGroup === true,
  })
  let out = ""
  let err = ""
  const waiters = new Set<() => void>()
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    out += c
  })
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    err += c
    for (const w of waiters) w()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      for (const w of waiters) w()
      resolve({ code, signal })
    }),
  )
  const waitForStderr = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = err.match(re)
        if (m !== null) {
          cleanup()
          resolve(m)
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup()
          reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${err}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no ${re} within ${timeoutMs} ms:\n${err}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  const stop = async (signal: NodeJS.Signals = "SIGINT", timeoutMs = 60_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      if (options.processGroup === true && child.pid !== undefined) process.kill(-child.pid, signal)
      else child.kill(signal)
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    const result = await exited
    clearTimeout(timer)
    return result
  }
  return { child, stdout: () => out, stderr: () => err, waitForStderr, exited, stop }
}

/** Lines of `ps`-like data: every process whose command line contains `needle`. */
export const processesMentioning = async (needle: string): Promise<ReadonlyArray<string>> => {
  const { readdirSync, readFileSync } = await import("node:fs")
  return readdirSync("/proc")
    .filter((d) => /^\d+$/u.test(d) && Number(d) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
        return cmd.includes(needle) ? [`${pid} ${cmd}`] : []
      } catch {
        return []
      }
    })
}
