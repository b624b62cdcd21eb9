// A TCP proxy on 127.0.0.1 in front of the apiserver that can drop every open connection at once: the
// operator's watch streams (and any request in flight) are cut mid-stream, as a load balancer or a
// flaky network would. TLS passes through untouched (the apiserver's certificate names 127.0.0.1).
import { readFileSync, writeFileSync } from "node:fs"
import { createConnection, createServer, type Socket } from "node:net"

export interface CuttingProxy {
  readonly port: number
  /** Destroys every open connection (both sides); returns how many were cut. */
  readonly cut: () => number
  readonly close: () => Promise<void>
}

export const startCuttingProxy = async (targetPort: number): Promise<CuttingProxy> => {
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort })
    open.add(client)
    const drop = () => {
      open.delete(client)
      client.destroy()
      upstream.destroy()
    }
    client.on("error", drop).on("close", drop)
    upstream.on("error", drop).on("close", drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    port,
    cut: () => {
      const n = open.size
      for (const s of [...open]) s.destroy()
      return n
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of [...open]) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A copy of `kubeconfig` whose server is the proxy. */
export const kubeconfigVia = (kubeconfig: string, server: string, proxyPort: number): string => {
  const path = `${kubeconfig}.proxied`
  writeFileSync(path, readFileSync(kubeconfig, "utf8").replaceAll(server, `https://127.0.0.1:${proxyPort}`))
  return path
}
