// A tiny MCP server over streamable HTTP on 127.0.0.1 for discovery tests: initialize (with a session id),
// notifications/initialized, paginated tools/list, DELETE of the session; JSON or SSE responses.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface McpTestServerOptions {
  readonly tools: ReadonlyArray<string>
  /** Answer with `text/event-stream` instead of a JSON body. */
  readonly sse?: boolean
  /** Path the MCP endpoint is mounted at (others answer 404). Default `/`. */
  readonly path?: string
  readonly pageSize?: number
  /** Answer every request with this HTTP status (a broken server). */
  readonly failWith?: number
}

export interface McpTestServer {
  readonly url: string
  /** `METHOD rpc-method` of every request received, e.g. `POST tools/list`. */
  readonly requests: Array<string>
  setTools: (tools: ReadonlyArray<string>) => void
  setFailWith: (status: number | undefined) => void
  readonly close: () => Promise<void>
}

const SESSION = "session-42"

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

export const startMcpTestServer = async (options: McpTestServerOptions): Promise<McpTestServer> => {
  let tools = [...options.tools]
  let failWith = options.failWith
  const requests: Array<string> = []
  const path = options.path ?? "/"
  const pageSize = options.pageSize ?? 2

  const send = (res: ServerResponse, id: unknown, result: unknown, headers: Record<string, string> = {}) => {
    const payload = JSON.stringify({ jsonrpc: "2.0", id, result })
    if (options.sse === true) {
      res.writeHead(200, { "content-type": "text/event-stream", ...headers })
      res.end(
        `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\nevent: message\ndata: ${payload}\n\n`,
      )
    } else {
      res.writeHead(200, { "content-type": "application/json", ...headers })
      res.end(payload)
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const rpc =
        body === ""
          ? {}
          : (JSON.parse(body) as { id?: unknown; method?: string; params?: { cursor?: string } })
      requests.push(`${req.method ?? ""} ${rpc.method ?? ""}`.trim())
      if (failWith !== undefined) {
        res.writeHead(failWith).end()
        return
      }
      if (req.url !== path) {
        res.writeHead(404).end()
        return
      }
      if (req.method === "DELETE") {
        res.writeHead(200).end()
        return
      }
      const sessionOk = req.headers["mcp-session-id"] === SESSION
      switch (rpc.method) {
        case "initialize":
          send(
            res,
            rpc.id,
            {
              protocolVersion: "2025-06-18",
              capabilities: { tools: {} },
              serverInfo: { name: "test", version: "1" },
            },
            { "mcp-session-id": SESSION },
          )
          return
        case "notifications/initialized":
          res.writeHead(sessionOk ? 202 : 400).end()
          return
        case "tools/list": {
          if (!sessionOk) {
            res.writeHead(400).end()
            return
          }
          const start = Number(rpc.params?.cursor ?? "0")
          const page = tools.slice(start, start + pageSize)
          const next = start + pageSize < tools.length ? String(start + pageSize) : undefined
          send(res, rpc.id, {
            tools: page.map((name) => ({ name, inputSchema: { type: "object" } })),
            ...(next !== undefined ? { nextCursor: next } : {}),
          })
          return
        }
        default:
          res.writeHead(200, { "content-type": "application/json" })
          res.end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: rpc.id,
              error: { code: -32601, message: "Method not found" },
            }),
          )
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setTools: (t) => {
      tools = [...t]
    },
    setFailWith: (s) => {
      failWith = s
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
