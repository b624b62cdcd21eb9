// The operator as users run it (`node src/main.ts --install` against a kubeconfig), as a child process, so
// /proc/<pid> gives its real RSS and CPU time and a fault can SIGKILL it.
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { request } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { sleep, stopOnSignal } from "./cluster.ts"

const repoRoot = join(import.meta.dirname, "..", "..", "..")

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0))
    })
  })

export interface ProcStats {
  readonly rssMiB: number
  readonly peakRssMiB: number
  readonly cpuSeconds: number
}

// USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
const CLK_TCK = 100

export const procStats = (pid: number): ProcStats => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "mu").exec(status)?.[1] ?? "0")
  // Fields after the command (which may contain spaces) start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return {
    rssMiB: kib("VmRSS") / 1024,
    peakRssMiB: kib("VmHWM") / 1024,
    cpuSeconds: (utime + stime) / CLK_TCK,
  }
}

export interface OperatorProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly startedAt: number
  readonly stats: () => ProcStats
  /** GET /readyz on the probe port answered 200. */
  readonly isReady: () => Promise<boolean>
  /** Polls /readyz every 20 ms; resolves with ms since spawn. */
  readonly awaitReady: (timeoutMs: number) => Promise<number>
  readonly output: () => string
  readonly kill: (signal: NodeJS.Signals) => Promise<void>
}

export interface OperatorOptions {
  readonly kubeconfig: string
  /** Extra settings (environment). */
  readonly env?: Record<string, string>
  /** Node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: ReadonlyArray<string>
  /** Reused across restarts so the development certificate (and the registered CA bundle) stay valid. */
  readonly certDir?: string
}

export const newCertDir = (): string => mkdtempSync(join(tmpdir(), "langop-bench-certs-"))

export const spawnOperator = async (options: OperatorOptions): Promise<OperatorProcess> => {
  const [webhook, health, metrics] = [await freePort(), await freePort(), await freePort()]
  const startedAt = Date.now()
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "src/main.ts", "--install"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: options.kubeconfig,
      LANGOP_CERT_DIR: options.certDir ?? newCertDir(),
      LANGOP_LEADER_ELECT: "false",
      LANGOP_WEBHOOK_PORT: String(webhook),
      LANGOP_HEALTH_PROBE_BIND_ADDRESS: `127.0.0.1:${health}`,
      LANGOP_METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
      LANGOP_LOG_LEVEL: "error",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  const keep = (c: string) => {
    out = (out + c).slice(-20_000)
  }
  child.stdout?.setEncoding("utf8").on("data", keep)
  child.stderr?.setEncoding("utf8").on("data", keep)
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  const pid = child.pid
  if (pid === undefined) throw new Error("the operator did not start")
  const forget = stopOnSignal(async () => {
    child.kill("SIGKILL")
    await exited
  })
  void exited.then(forget)
  const isReady = () =>
    new Promise<boolean>((resolve) => {
      const req = request({ host: "127.0.0.1", port: health, path: "/readyz", timeout: 2_000 }, (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      })
      req.on("error", () => resolve(false))
      req.on("timeout", () => req.destroy())
      req.end()
    })
  return {
    child,
    pid,
    startedAt,
    stats: () => procStats(pid),
    isReady,
    awaitReady: async (timeoutMs) => {
      const deadline = startedAt + timeoutMs
      for (;;) {
        if (await isReady()) return Date.now() - startedAt
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the operator exited before it was ready:\n${out}`)
        if (Date.now() > deadline)
          throw new Error(`the operator was not ready within ${timeoutMs} ms:\n${out}`)
        await sleep(20)
      }
    },
    output: () => out,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
      await exited
      clearTimeout(timer)
    },
  }
}
