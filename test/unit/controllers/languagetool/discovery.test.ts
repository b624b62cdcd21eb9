import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, beforeAll, expect } from "vitest"
import {
  discoverTools,
  discoveryApplies,
  makeDiscoveryMemory,
  readySignature,
  shouldDiscover,
} from "../../../../src/controllers/languagetool/discovery.ts"
import { listMcpTools, responseFromEventStream } from "../../../../src/controllers/languagetool/mcp.ts"
import { deploymentWith, tool } from "./fixtures.ts"
import { type McpTestServer, startMcpTestServer } from "./mcp-server.ts"

const TOOLS = ["search", "fetch", "summarize", "fetch", "extract"]

let json: McpTestServer
let sse: McpTestServer
let underMcp: McpTestServer
let broken: McpTestServer

beforeAll(async () => {
  json = await startMcpTestServer({ tools: TOOLS })
  sse = await startMcpTestServer({ tools: TOOLS, sse: true, pageSize: 10 })
  underMcp = await startMcpTestServer({ tools: ["only"], path: "/mcp" })
  broken = await startMcpTestServer({ tools: [], failWith: 500 })
})
afterAll(async () => {
  for (const s of [json, sse, underMcp, broken]) await s.close()
})

describe("MCP client (streamable HTTP)", () => {
  it.live("initialize → initialized → paginated tools/list → DELETE; names sorted and de-duplicated", () =>
    Effect.gen(function* () {
      const names = yield* listMcpTools(json.url)
      assert.deepStrictEqual(names, ["extract", "fetch", "search", "summarize"])
      expect(json.requests).toEqual([
        "POST initialize",
        "POST notifications/initialized",
        "POST tools/list",
        "POST tools/list",
        "POST tools/list",
        "DELETE",
      ])
    }),
  )

  it.live("reads responses sent as an event stream", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* listMcpTools(sse.url), ["extract", "fetch", "search", "summarize"])
    }),
  )

  it.live("falls back to <endpoint>/mcp when the bare URL is not an MCP endpoint", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* listMcpTools(underMcp.url), ["only"])
    }),
  )

  it.live("fails with a typed error naming the step (HTTP error, unreachable server)", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(listMcpTools(broken.url))
      assert.strictEqual(error._tag, "McpDiscoveryError")
      assert.strictEqual(error.step, "initialize")
      assert.strictEqual(error.message, "HTTP 500")
      const refused = yield* Effect.flip(listMcpTools("http://127.0.0.1:1", { timeoutMs: 1000 }))
      assert.strictEqual(refused.step, "initialize")
    }),
  )

  it("finds the response with the right id among several SSE events", () => {
    const body = 'event: message\ndata: {"id":1,"result":1}\n\ndata: {"id":2,\ndata: "result":2}\n\n'
    expect(responseFromEventStream(body, 2)).toEqual({ id: 2, result: 2 })
    expect(responseFromEventStream("data: not json\n\n", 1)).toBeUndefined()
  })
})

describe("discovery policy", () => {
  it("applies to mcp tools in service mode with a ready replica only", () => {
    const ready = deploymentWith(1, { ready: 1 })
    expect(discoveryApplies(tool(), ready)).toBe(true)
    expect(discoveryApplies(tool(), deploymentWith(1, { ready: 0 }))).toBe(false)
    expect(discoveryApplies(tool(), undefined)).toBe(false)
    expect(discoveryApplies(tool({ spec: { type: "openapi" } }), ready)).toBe(false)
    expect(discoveryApplies(tool({ spec: { deploymentMode: "sidecar" } }), ready)).toBe(false)
  })

  it("asks again only when the ready pods changed or the interval passed", () => {
    const seen = { signature: "a", at: 1000, tools: ["x"] }
    expect(shouldDiscover(undefined, "a", 1000, 600_000)).toBe(true)
    expect(shouldDiscover(seen, "a", 1000 + 599_999, 600_000)).toBe(false)
    expect(shouldDiscover(seen, "b", 1001, 600_000)).toBe(true)
    expect(shouldDiscover(seen, "a", 1000 + 600_000, 600_000)).toBe(true)
    const pods = [{ metadata: { name: "b" } }, { metadata: { name: "a" } }]
    expect(readySignature(deploymentWith(2, { ready: 2 }), pods)).toBe(
      readySignature(deploymentWith(2, { ready: 2 }), [...pods].reverse()),
    )
    expect(readySignature(deploymentWith(2, { ready: 1 }), pods)).not.toBe(
      readySignature(deploymentWith(2, { ready: 2 }), pods),
    )
  })

  it.effect(
    "remembers results; a failing server keeps the previous list; the interval triggers a new query",
    () =>
      Effect.gen(function* () {
        const server = yield* Effect.promise(() => startMcpTestServer({ tools: ["a", "b"] }))
        yield* Effect.addFinalizer(() => Effect.promise(() => server.close()))
        const memory = makeDiscoveryMemory()
        const options = { enabled: true, endpointFor: () => server.url }
        const run = (signature: string) =>
          discoverTools(memory, "demo/t", tool(), "http://unused", signature, options)

        assert.deepStrictEqual(yield* run("s1"), ["a", "b"])
        const calls = server.requests.length
        server.setTools(["c"])
        assert.deepStrictEqual(yield* run("s1"), ["a", "b"]) // same pods, within the interval: no request
        assert.strictEqual(server.requests.length, calls)
        assert.deepStrictEqual(yield* run("s2"), ["c"]) // pods changed

        server.setFailWith(503)
        assert.deepStrictEqual(yield* run("s3"), ["c"]) // failure: previous list kept
        const afterFailure = server.requests.length
        assert.deepStrictEqual(yield* run("s3"), ["c"]) // the failed attempt is remembered: no hammering
        assert.strictEqual(server.requests.length, afterFailure)

        server.setFailWith(undefined)
        server.setTools(["d"])
        yield* TestClock.adjust("10 minutes")
        assert.deepStrictEqual(yield* run("s3"), ["d"])
      }),
  )
})
