/**
 * Where `npm start` finds a cluster, in client-go's order: `$KUBECONFIG` (colon-separated files, merged),
 * else `~/.kube/config`, else in-cluster service-account credentials; none of them means "no cluster"
 * (npm start then runs a local control plane).
 *
 * Guarantees: a `$KUBECONFIG` that names no existing file counts as absent (and the message says so);
 * a kubeconfig that exists but cannot be loaded, or has no current context, is a StartupError rather
 * than a silent fallback to a local cluster.
 */
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { delimiter, join } from "node:path"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect } from "effect"
import { firstLine, StartupError } from "./errors.ts"

const SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"

export type ClusterAccess =
  | {
      readonly mode: "kubeconfig"
      readonly kc: KubeConfig
      /** The file(s) it came from. */
      readonly source: string
      readonly server: string
      readonly context: string
    }
  | {
      readonly mode: "in-cluster"
      readonly kc: KubeConfig
      readonly server: string
      /** `system:serviceaccount:<ns>:<name>` from the token, when it can be read. */
      readonly identity: string | undefined
    }
  | {
      readonly mode: "none"
      /** What was looked at, for the message. */
      readonly checked: string
    }

/** The `sub` claim of a service-account token (a JWT): who the API server will see. */
export const tokenSubject = (token: string): string | undefined => {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      sub?: unknown
    }
    return typeof payload.sub === "string" ? payload.sub : undefined
  } catch {
    return undefined
  }
}

export interface AccessEnv {
  readonly KUBECONFIG?: string | undefined
  readonly HOME?: string | undefined
  readonly KUBERNETES_SERVICE_HOST?: string | undefined
}

/** Finds the cluster access the environment describes. */
export const findClusterAccess = (
  env: AccessEnv = process.env,
  tokenPath: string = SA_TOKEN,
): Effect.Effect<ClusterAccess, StartupError> =>
  Effect.gen(function* () {
    const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "")
    const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir()
    const files =
      fromEnv.length > 0
        ? fromEnv.filter((f) => existsSync(f))
        : [join(home, ".kube", "config")].filter(existsSync)
    if (files.length > 0) {
      const source = files.join(delimiter)
      const kc = yield* Effect.try({
        try: () => {
          // Merged like client-go: the first file's current context wins.
          const [first = "", ...rest] = files
          const k = new KubeConfig()
          k.loadFromFile(first)
          for (const f of rest) {
            const other = new KubeConfig()
            other.loadFromFile(f)
            k.mergeConfig(other, true)
          }
          return k
        },
        catch: (e) =>
          new StartupError({
            message: `cannot read the kubeconfig ${source} (${firstLine(e)}): fix it or point KUBECONFIG elsewhere.`,
          }),
      })
      const cluster = kc.getCurrentCluster()
      if (cluster === null)
        return yield* new StartupError({
          message: `the kubeconfig ${source} has no current context with a cluster: select one with \`kubectl config use-context\`.`,
        })
      return { mode: "kubeconfig", kc, source, server: cluster.server, context: kc.getCurrentContext() }
    }
    if (
      env.KUBERNETES_SERVICE_HOST !== undefined &&
      env.KUBERNETES_SERVICE_HOST !== "" &&
      existsSync(tokenPath)
    ) {
      const kc = new KubeConfig()
      kc.loadFromCluster()
      return {
        mode: "in-cluster",
        kc,
        server: kc.getCurrentCluster()?.server ?? "in-cluster",
        identity: tokenSubject(readFileSync(tokenPath, "utf8")),
      }
    }
    const checked =
      fromEnv.length > 0
        ? `KUBECONFIG=${env.KUBECONFIG ?? ""} names no existing file`
        : `no KUBECONFIG, no ${join(home, ".kube", "config")}, not in a Pod`
    return { mode: "none", checked }
  })
