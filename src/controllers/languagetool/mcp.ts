/**
 * A minimal MCP client over streamable HTTP, just enough for tool discovery (docs/languagetool.md §Discovery):
 * `initialize`, `notifications/initialized`, then `tools/list` following `nextCursor`.
 *
 * Guarantees: never hangs (every request has a timeout and the whole exchange a page limit); never throws
 * (every failure is a `McpDiscoveryError` naming the step); accepts both response forms the transport
 * allows (a JSON body, or a `text/event-stream` carrying the JSON-RPC response); echoes the server's
 * `Mcp-Session-Id` and the negotiated protocol version on later requests, and ends the session with a
 * best-effort DELETE. Returns the tool names sorted and de-duplicated.
 * Assumption: the endpoint is the URL agents use (`status.endpoint`); servers that mount MCP under
 * `/mcp` are tried there when the bare URL answers 404 or 405.
 */
import { Effect, Schema } from "effect"

export class McpDiscoveryError extends Schema.TaggedError<McpDiscoveryError>()("McpDiscoveryError", {
  step: Schema.String,
  message: Schema.String,
}) {}

export const PROTOCOL_VERSION = "2025-06-18"
const MAX_PAGES = 20

export interface McpOptions {
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number
}

interface RpcResponse {
  readonly id?: unknown
  readonly result?: unknown
  readonly error?: { readonly code?: number; readonly message?: string }
}

/** The JSON-RPC response with `id` from an SSE body (`data:` lines of each event joined). */
export const responseFromEventStream = (body: string, id: number): RpcResponse | undefined => {
  for (const event of body.split(/\r?\n\r?\n/u)) {
    const data = event
      .split(/\r?\n/u)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /u, ""))
      .join("\n")
    if (data === "") continue
    try {
      const parsed = JSON.parse(data) as RpcResponse
      if (parsed.id === id) return parsed
    } catch {
      // not JSON: ignore this event
    }
  }
  return undefined
}

interface Session {
  readonly url: string
  readonly sessionId: string | undefined
  readonly protocolVersion: string
}

const post = (url: string, body: unknown, headers: Record<string, string>, timeoutMs: number, step: string) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      })
      const text = await response.text()
      return { status: response.status, headers: response.headers, text }
    },
    catch: (e) => new McpDiscoveryError({ step, message: e instanceof Error ? e.message : String(e) }),
  })

const call = (
  url: string,
  id: number,
  method: string,
  params: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
) =>
  Effect.gen(function* () {
    const res = yield* post(url, { jsonrpc: "2.0", id, method, params }, headers, timeoutMs, method)
    if (res.status < 200 || res.status >= 300)
      return yield* new McpDiscoveryError({ step: method, message: `HTTP ${res.status}` })
    const type = res.headers.get("content-type") ?? ""
    let rpc: RpcResponse | undefined
    if (type.includes("text/event-stream")) rpc = responseFromEventStream(res.text, id)
    else
      rpc = yield* Effect.try({
        try: () => JSON.parse(res.text) as RpcResponse,
        catch: () => new McpDiscoveryError({ step: method, message: "response is not JSON" }),
      })
    if (rpc === undefined)
      return yield* new McpDiscoveryError({
        step: method,
        message: "no JSON-RPC response in the event stream",
      })
    if (rpc.error !== undefined)
      return yield* new McpDiscoveryError({
        step: method,
        message: `error ${rpc.error.code ?? ""}: ${rpc.error.message ?? ""}`.trim(),
      })
    return {
      result: rpc.result,
      sessionId: res.headers.get("mcp-session-id") ?? undefined,
      status: res.status,
    }
  })

const initialize = (url: string, timeoutMs: number) =>
  Effect.gen(function* () {
    const init = yield* call(
      url,
      1,
      "initialize",
      {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "langop-operator", version: "0.1.0" },
      },
      {},
      timeoutMs,
    )
    const result = init.result as { protocolVersion?: unknown } | undefined
    const session: Session = {
      url,
      sessionId: init.sessionId,
      protocolVersion:
        typeof result?.protocolVersion === "string" ? result.protocolVersion : PROTOCOL_VERSION,
    }
    return session
  })

const sessionHeaders = (s: Session): Record<string, string> => ({
  "mcp-protocol-version": s.protocolVersion,
  ...(s.sessionId !== undefined ? { "mcp-session-id": s.sessionId } : {}),
})

/** Initialise at `endpoint`, or at `<endpoint>/mcp` when the bare URL is not an MCP endpoint (404/405). */
const open = (endpoint: string, timeoutMs: number) =>
  initialize(endpoint, timeoutMs).pipe(
    Effect.catchIf(
      (e) => e.step === "initialize" && (e.message === "HTTP 404" || e.message === "HTTP 405"),
      () => initialize(`${endpoint.replace(/\/+$/u, "")}/mcp`, timeoutMs),
    ),
  )

/** The names of the tools an MCP server offers, sorted. */
export const listMcpTools = (endpoint: string, options: McpOptions = {}) =>
  Effect.gen(function* () {
    const timeoutMs = options.timeoutMs ?? 5000
    const session = yield* open(endpoint, timeoutMs)
    const headers = sessionHeaders(session)
    const note = yield* post(
      session.url,
      { jsonrpc: "2.0", method: "notifications/initialized" },
      headers,
      timeoutMs,
      "notifications/initialized",
    )
    if (note.status < 200 || note.status >= 300)
      return yield* new McpDiscoveryError({
        step: "notifications/initialized",
        message: `HTTP ${note.status}`,
      })
    const names = new Set<string>()
    let cursor: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = yield* call(
        session.url,
        2 + page,
        "tools/list",
        cursor === undefined ? {} : { cursor },
        headers,
        timeoutMs,
      )
      const result = res.result as
        | { tools?: ReadonlyArray<{ name?: unknown }>; nextCursor?: unknown }
        | undefined
      if (!Array.isArray(result?.tools))
        return yield* new McpDiscoveryError({ step: "tools/list", message: "result has no tools list" })
      for (const t of result.tools) if (typeof t.name === "string" && t.name !== "") names.add(t.name)
      cursor =
        typeof result.nextCursor === "string" && result.nextCursor !== "" ? result.nextCursor : undefined
      if (cursor === undefined) break
    }
    if (session.sessionId !== undefined)
      yield* Effect.ignore(
        Effect.tryPromise((signal) =>
          fetch(session.url, {
            method: "DELETE",
            headers,
            signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          }),
        ),
      )
    return [...names].sort()
  })
