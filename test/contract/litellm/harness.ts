/**
 * Test harness for the LiteLLM contract tests: a fake OpenAI-compatible upstream and a runner that
 * starts the real (pinned) LiteLLM proxy with a given config.yaml. Everything binds 127.0.0.1.
 *
 * Fake upstream: serves `/v1/models` and `POST …/chat/completions` under any path prefix, so one server
 * plays several endpoints: `http://127.0.0.1:<port>/<label>` is the endpoint labelled `<label>`.
 * Requests are counted per `<label>` and per `<label>:<model>`; a label can be told to fail with an
 * HTTP status. Answers carry the label and a per-server sequence number, so a cached answer (same
 * text) is distinguishable from a fresh one.
 *
 * Runner: a started proxy is healthy (`/health/readiness` answered 200); if the process exits first, or
 * does not become healthy in time, `startLiteLLM` rejects with the end of its log — that is how a config
 * LiteLLM rejects fails a test.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer, type IncomingMessage, type Server } from "node:http"
import { createServer as createNetServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

// ---------------------------------------------------------------------------------------------------------
// Fake upstream

export interface UpstreamRequest {
  readonly label: string
  readonly model: string
  readonly authorization: string | undefined
  readonly body: Record<string, unknown>
}

export interface FakeUpstream {
  readonly port: number
  /** Base URL of the endpoint `label` (no trailing slash). */
  readonly url: (label: string) => string
  /** Requests seen for a label (optionally only for one model). */
  readonly count: (label: string, model?: string) => number
  readonly requests: ReadonlyArray<UpstreamRequest>
  /** Make every chat request to `label` answer `status` (undefined: answer normally again). */
  readonly fail: (label: string, status: number | undefined, body?: unknown) => void
  /** Hold every chat answer for `label` this long (undefined: answer at once). */
  readonly delay: (label: string, ms: number | undefined) => void
  /** Most chat requests for `label` that were in flight at the same time. */
  readonly maxInFlight: (label: string) => number
  readonly reset: () => void
  readonly close: () => Promise<void>
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

export const startFakeUpstream = async (): Promise<FakeUpstream> => {
  const requests: Array<UpstreamRequest> = []
  const counts = new Map<string, number>()
  const failures = new Map<string, { status: number; body: unknown }>()
  const delays = new Map<string, number>()
  const inFlight = new Map<string, number>()
  const peaks = new Map<string, number>()
  let sequence = 0
  const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1)

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      }
      if (req.method === "GET" && path.endsWith("/models"))
        return send(200, { object: "list", data: [{ id: "fake", object: "model", owned_by: "test" }] })
      if (req.method !== "POST" || !path.endsWith("/chat/completions"))
        return send(404, { error: { message: `no route ${req.method} ${path}` } })
      const label = path
        .replace(/\/chat\/completions$/u, "")
        .replace(/\/v1$/u, "")
        .replace(/^\//u, "")
      const body = JSON.parse((await readBody(req)) || "{}") as Record<string, unknown>
      const model = String(body.model ?? "")
      requests.push({ label, model, authorization: req.headers.authorization, body })
      bump(label)
      bump(`${label}:${model}`)
      const failure = failures.get(label)
      if (failure !== undefined) return send(failure.status, failure.body)
      const now = (inFlight.get(label) ?? 0) + 1
      inFlight.set(label, now)
      peaks.set(label, Math.max(peaks.get(label) ?? 0, now))
      const hold = delays.get(label)
      if (hold !== undefined) await new Promise((r) => setTimeout(r, hold))
      inFlight.set(label, (inFlight.get(label) ?? 1) - 1)
      sequence += 1
      return send(200, {
        id: `chatcmpl-fake-${sequence}`,
        object: "chat.completion",
        created: 1_700_000_000,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: `answer from ${label} #${sequence}` },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
      })
    })().catch((e: unknown) => {
      res.writeHead(500)
      res.end(String(e))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    port,
    url: (label) => `http://127.0.0.1:${port}/${label}`,
    count: (label, model) => counts.get(model === undefined ? label : `${label}:${model}`) ?? 0,
    requests,
    fail: (label, status, body = { error: { message: `injected ${status}`, type: "server_error" } }) => {
      if (status === undefined) failures.delete(label)
      else failures.set(label, { status, body })
    },
    delay: (label, ms) => {
      if (ms === undefined) delays.delete(label)
      else delays.set(label, ms)
    },
    maxInFlight: (label) => peaks.get(label) ?? 0,
    reset: () => {
      requests.length = 0
      counts.clear()
      failures.clear()
      delays.clear()
      inFlight.clear()
      peaks.clear()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// ---------------------------------------------------------------------------------------------------------
// LiteLLM runner

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createNetServer()
    s.on("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })

export interface RunningProxy {
  readonly url: string
  readonly log: () => string
  readonly stop: () => Promise<void>
}

export interface StartOptions {
  /** Environment for the proxy (e.g. LANGOP_MODEL_API_KEY); merged over a minimal base. */
  readonly env?: Readonly<Record<string, string>>
  readonly timeoutMs?: number
  /**
   * Run as the Deployment does: root filesystem read-only, only a fresh /tmp writable (a private mount
   * namespace via `unshare`; see {@link canUseReadOnlyRoot}). The config then lives under /var/tmp.
   */
  readonly readOnlyRoot?: boolean
}

/** Whether this machine lets us make a private read-only view of `/` (root with mount namespaces). */
export const canUseReadOnlyRoot = (): boolean =>
  spawnSync(
    "unshare",
    [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount -o remount,bind,ro / && ! touch /.langop-probe 2>/dev/null",
    ],
    {
      stdio: "ignore",
    },
  ).status === 0

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

/** Starts `litellm --config <file>` and resolves once it is healthy; rejects with its log otherwise. */
export const startLiteLLM = async (
  litellm: string,
  configYaml: string,
  options: StartOptions = {},
): Promise<RunningProxy> => {
  const dir = await mkdtemp(join(options.readOnlyRoot === true ? "/var/tmp" : tmpdir(), "langop-litellm-"))
  const configPath = join(dir, "config.yaml")
  await writeFile(configPath, configYaml)
  const port = await freePort()
  let output = ""
  const args = ["--config", configPath, "--host", "127.0.0.1", "--port", String(port)]
  const [command, argv] =
    options.readOnlyRoot === true
      ? [
          "unshare",
          [
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs tmpfs /tmp && mount -o remount,bind,ro / && exec "$0" "$@"',
            litellm,
            ...args,
          ],
        ]
      : [litellm, args]
  const child = spawn(command, argv, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      // The proxy must not try to fetch the model price map from the internet (as in the Deployment).
      LITELLM_LOCAL_MODEL_COST_MAP: "True",
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
      ...options.env,
    },
  })
  const append = (c: Buffer) => {
    output = (output + c.toString()).slice(-200_000)
  }
  child.stdout?.on("data", append)
  child.stderr?.on("data", append)
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await stopChild(child)
    await rm(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + (options.timeoutMs ?? 150_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop()
      throw new Error(
        `LiteLLM exited (code ${child.exitCode}) before becoming healthy:\n${output.slice(-6000)}`,
      )
    }
    const healthy = await fetch(`${url}/health/readiness`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    )
    if (healthy) return { url, log: () => output, stop }
    await new Promise((r) => setTimeout(r, 500))
  }
  await stop()
  throw new Error(`LiteLLM did not become healthy in time:\n${output.slice(-6000)}`)
}

export interface ChatResult {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly content: string | undefined
  readonly headers: Headers
}

/** One chat completion through the proxy (by default with a dummy key: rendered proxies have no master key). */
export const chat = async (
  proxy: RunningProxy,
  model: string,
  text: string,
  /** The OpenAI `user` field (usage attribution sends `<namespace>/<agent>`). */
  user?: string,
  /** The bearer token sent; `null` sends no Authorization header. */
  key: string | null = "sk-dummy-key-for-local-proxy",
): Promise<ChatResult> => {
  const r = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: text }],
      ...(user === undefined ? {} : { user }),
    }),
    signal: AbortSignal.timeout(60_000),
  })
  const body = (await r.json().catch(() => ({}))) as Record<string, unknown>
  const choices = body.choices as ReadonlyArray<{ message?: { content?: string } }> | undefined
  return { status: r.status, body, content: choices?.[0]?.message?.content, headers: r.headers }
}
