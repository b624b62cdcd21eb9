// Loopback networking helpers: free ports and HTTP(S) probes for readiness checks.
// Every address here is 127.0.0.1; nothing listens on or talks to another interface.
import { request as httpRequest } from "node:http"
import { request as httpsRequest } from "node:https"
import { createServer, type Server } from "node:net"
import { Data, Effect } from "effect"

/** Picks `n` distinct free TCP ports on 127.0.0.1 (all held open at once, so no duplicates). */
export const freePorts = (n: number): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(async () => {
    const servers: Array<Server> = []
    const ports: Array<number> = []
    for (let i = 0; i < n; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject)
        server.listen(0, "127.0.0.1", () => resolve())
      })
      const addr = server.address()
      if (addr !== null && typeof addr === "object") ports.push(addr.port)
    }
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    return ports
  })

export class ProbeError extends Data.TaggedError("ProbeError")<{ readonly message: string }> {}

export interface ProbeOptions {
  /** PEM CA to trust; when absent, TLS certificates are not verified (self-signed health ports). */
  readonly ca?: string
  readonly timeoutMs?: number
}

/** GETs `url` and succeeds with the body iff the status is 200. */
export const probe = (url: string, options: ProbeOptions = {}): Effect.Effect<string, ProbeError> =>
  Effect.callback<string, ProbeError>((resume) => {
    const https = url.startsWith("https:")
    const opts = {
      timeout: options.timeoutMs ?? 2_000,
      ...(https ? (options.ca !== undefined ? { ca: options.ca } : { rejectUnauthorized: false }) : {}),
    }
    const req = (https ? httpsRequest : httpRequest)(url, opts, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => {
        resume(
          res.statusCode === 200
            ? Effect.succeed(body)
            : Effect.fail(
                new ProbeError({ message: `${url}: HTTP ${String(res.statusCode)} ${body.slice(0, 300)}` }),
              ),
        )
      })
    })
    req.on("timeout", () => req.destroy(new Error("timeout")))
    req.on("error", (e) => resume(Effect.fail(new ProbeError({ message: `${url}: ${e.message}` }))))
    req.end()
    return Effect.sync(() => req.destroy())
  })
