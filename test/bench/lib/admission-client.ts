// Load generator for the admission bench, run in its OWN process (so client work does not share the
// server's event loop): POSTs an AdmissionReview over HTTPS with a keep-alive pool, `total` requests at
// most `inFlight` at once, and prints { requests, perSecond, p50Ms, p99Ms } as JSON.
// argv: <port> <path> <caFile> <bodyFile> <total> <inFlight> <warmup>
import { readFileSync } from "node:fs"
import { Agent, request } from "node:https"

const [port, path, caFile, bodyFile, total, inFlight, warmup] = process.argv.slice(2)
const ca = readFileSync(caFile ?? "", "utf8")
const payload = readFileSync(bodyFile ?? "", "utf8")
const pool = new Agent({ keepAlive: true, maxSockets: Number(inFlight) })

const post = () =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(port),
        path,
        method: "POST",
        agent: pool,
        ca,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString()
          if (res.statusCode !== 200 || !text.includes('"allowed":true'))
            reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 300)}`))
          else resolve(performance.now() - start)
        })
        res.on("error", reject)
      },
    )
    req.on("error", reject)
    req.end(payload)
  })

const load = async (n: number, lanes: number) => {
  const latencies: Array<number> = []
  let next = 0
  const t0 = performance.now()
  const lane = async () => {
    while (next < n) {
      next++
      latencies.push(await post())
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  const wall = performance.now() - t0
  latencies.sort((a, b) => a - b)
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0
  return {
    requests: n,
    perSecond: Math.round(n / (wall / 1000)),
    p50Ms: Number(at(50).toFixed(3)),
    p99Ms: Number(at(99).toFixed(3)),
  }
}

await load(Number(warmup), Number(inFlight))
console.log(JSON.stringify(await load(Number(total), Number(inFlight))))
pool.destroy()
