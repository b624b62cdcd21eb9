// np-guard's netpol-analyzer (built by test/cluster/build.sh, pinned in test/cluster/netpol/go.mod) run
// against the shared test cluster, with typed results. There is no CNI on the local control plane, so
// NetworkPolicies are stored but not enforced; the analyzer computes what they WOULD allow.
//
//   const allowed = await evalConnection({ from: agentPod, to: { ip: "203.0.113.10" }, port: 443 })
//   const verdicts = await evalConnections(queries)              // many at once, same order
//   const conns = await listConnections({ focusWorkloads: [workloadOf(agentPod)], direction: "egress" })
//
// Guarantees: every call reads the live objects at call time (`eval` reads only the source and destination
// namespaces, pods and those namespaces' NetworkPolicies; `list` reads the whole cluster); a failing or
// unparsable analyzer run throws with its stderr, it never reads as "denied".
// Limitations of the pinned analyzer (v1.4.4), checked on this machine: IPv4 only — `eval` rejects an
// IPv6 destination, and an IPv6 `ipBlock` is misread as an IPv4 address (`2001:db8::1/128` shows up as
// `32.1.13.184`), so scenarios that are analysed must keep IPv6 peers out of the analysed policies.
// Live `eval` between two pods of ONE namespace fails in v1.4.4 (it loads that namespace's policies twice:
// "NetworkPolicy … already exists"), so such a query is evaluated over a snapshot of the namespace (the
// Namespace, its Pods and NetworkPolicies, read just before) with `--dirpath`; same engine, same objects.
// Pod-to-pod verdicts need numeric ports unless the destination pod declares the named port.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CoreV1Api, NetworkingV1Api, type V1Pod } from "@kubernetes/client-node"
import { Effect } from "effect"
import { stringify } from "yaml"
import { ensureBinaries } from "../../../src/localcluster/binaries.ts"
import { runCommand } from "../../../src/localcluster/command.ts"
import { kubeconfigPath, makeKubeConfig } from "./context.ts"

export type Protocol = "TCP" | "UDP" | "SCTP"

export interface PodRef {
  readonly namespace: string
  readonly name: string
}

/** A pod of the cluster, or an address outside it (IPv4). */
export type Destination = { readonly pod: PodRef } | { readonly ip: string }

export interface ConnectionQuery {
  readonly from: PodRef
  readonly to: Destination
  readonly port: number
  /** Default TCP. */
  readonly protocol?: Protocol
}

export interface Verdict {
  readonly query: ConnectionQuery
  readonly allowed: boolean
}

let analyzer: Promise<string> | undefined

/** Path of the analyzer binary (build.sh; a no-op when the cache is warm). */
export const netpolAnalyzerPath = (): Promise<string> => {
  analyzer ??= Effect.runPromise(
    Effect.map(
      ensureBinaries(() => {}),
      (b) => b.netpolAnalyzer,
    ),
  )
  return analyzer
}

/** Runs the analyzer on the live cluster, or on the manifests in `dirpath`. */
const run = async (args: ReadonlyArray<string>, dirpath?: string): Promise<string> => {
  const bin = await netpolAnalyzerPath()
  const full = [...(dirpath === undefined ? ["-k", kubeconfigPath()] : ["--dirpath", dirpath]), "-q", ...args]
  const r = await Effect.runPromise(runCommand(bin, full, { timeoutMs: 60_000 }))
  if (r.exitCode !== 0)
    throw new Error(`netpol-analyzer ${full.join(" ")} exited ${String(r.exitCode)}: ${r.stderr || r.stdout}`)
  return r.stdout
}

const destinationText = (to: Destination): string =>
  "ip" in to ? to.ip : `${to.pod.namespace}/${to.pod.name}`

/** `ns/pod -> 203.0.113.10 TCP/443`, for assertion messages. */
export const describeQuery = (q: ConnectionQuery): string =>
  `${q.from.namespace}/${q.from.name} -> ${destinationText(q.to)} ${q.protocol ?? "TCP"}/${q.port}`

/** One namespace as manifests: the Namespace, its Pods and its NetworkPolicies, as read now. */
const snapshotNamespace = async (namespace: string): Promise<string> => {
  const kc = makeKubeConfig()
  const core = kc.makeApiClient(CoreV1Api)
  const [ns, pods, policies] = await Promise.all([
    core.readNamespace({ name: namespace }),
    core.listNamespacedPod({ namespace }),
    kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace }),
  ])
  const docs = [
    { ...ns, apiVersion: "v1", kind: "Namespace" },
    ...pods.items.map((p) => ({ ...p, apiVersion: "v1", kind: "Pod" })),
    ...policies.items.map((p) => ({ ...p, apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" })),
  ]
  const dir = await mkdtemp(join(tmpdir(), "netpol-"))
  await writeFile(
    join(dir, "objects.yaml"),
    // client-node's models name an ingress rule's `from` `_from`; the analyzer reads the wire name (without
    // this, every ingress rule would read as "from anywhere").
    docs.map((d) => stringify(JSON.parse(JSON.stringify(d).replaceAll('"_from":', '"from":')))).join("---\n"),
  )
  return dir
}

/** `eval`: is this one connection allowed by the NetworkPolicies stored in the cluster? */
export const evalConnection = async (q: ConnectionQuery): Promise<boolean> => {
  const dst =
    "ip" in q.to
      ? ["--destination-ip", q.to.ip]
      : ["--destination-namespace", q.to.pod.namespace, "-d", q.to.pod.name]
  const args = [
    "eval",
    "-n",
    q.from.namespace,
    "-s",
    q.from.name,
    ...dst,
    "-p",
    String(q.port),
    "--protocol",
    (q.protocol ?? "TCP").toLowerCase(),
  ]
  const sameNamespace = "pod" in q.to && q.to.pod.namespace === q.from.namespace
  const dir = sameNamespace ? await snapshotNamespace(q.from.namespace) : undefined
  const out = await run(args, dir).finally(() =>
    dir === undefined ? undefined : rm(dir, { recursive: true }),
  )
  // `<src> => <dst> over <proto>/<port>: true|false`
  const match = /^(\S+) => (\S+) over (\w+)\/(\S+): (true|false)$/mu.exec(out)
  if (match === null)
    throw new Error(`unexpected netpol-analyzer eval output for ${describeQuery(q)}: ${out}`)
  return match[5] === "true"
}

/** Evaluates every query (a few processes at a time); verdicts in query order. */
export const evalConnections = async (
  queries: ReadonlyArray<ConnectionQuery>,
  concurrency = 4,
): Promise<ReadonlyArray<Verdict>> => {
  const out: Array<Verdict> = new Array(queries.length)
  let next = 0
  const worker = async () => {
    while (next < queries.length) {
      const i = next++
      const query = queries[i]
      if (query !== undefined) out[i] = { query, allowed: await evalConnection(query) }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queries.length) }, worker))
  return out
}

// ---------------------------------------------------------------------------------------------------------
// `list -o json`: the connectivity map

export interface PortRange {
  readonly from: number
  readonly to: number
}

/** `All Connections`, or per protocol the allowed port ranges (`SCTP 61,TCP 53,60-70,UDP 53`). */
export type Conn =
  | { readonly _tag: "All" }
  | { readonly _tag: "Ports"; readonly ports: Readonly<Partial<Record<Protocol, ReadonlyArray<PortRange>>>> }

/** A workload (`ns/name[Kind]`; for Deployment pods the ReplicaSet) or an IPv4 range outside the pods. */
export type Peer =
  | { readonly _tag: "Workload"; readonly namespace: string; readonly name: string; readonly kind: string }
  | { readonly _tag: "IpRange"; readonly first: string; readonly last: string }

export interface ListedConnection {
  readonly src: Peer
  readonly dst: Peer
  readonly conn: Conn
  /** The analyzer's own strings, e.g. `{src: "a/agent-5d9c[ReplicaSet]", dst: "198.51.100.0-198.51.100.255", conn: "TCP 443"}`. */
  readonly raw: { readonly src: string; readonly dst: string; readonly conn: string }
}

const PROTOCOLS: ReadonlyArray<string> = ["TCP", "UDP", "SCTP"]

export const parseConn = (text: string): Conn => {
  if (text.trim() === "All Connections") return { _tag: "All" }
  const ports: Partial<Record<Protocol, Array<PortRange>>> = {}
  let current: Array<PortRange> | undefined
  for (const token of text.split(",").map((t) => t.trim())) {
    const [head, rest] = token.includes(" ") ? token.split(/\s+/u, 2) : [undefined, token]
    if (head !== undefined) {
      if (!PROTOCOLS.includes(head)) throw new Error(`unknown protocol in connection ${JSON.stringify(text)}`)
      current = ports[head as Protocol] ?? []
      ports[head as Protocol] = current
    }
    const range = /^(\d+)(?:-(\d+))?$/u.exec(rest ?? "")
    if (current === undefined || range === null)
      throw new Error(`cannot parse connection ${JSON.stringify(text)}`)
    current.push({ from: Number(range[1]), to: Number(range[2] ?? range[1]) })
  }
  return { _tag: "Ports", ports }
}

export const parsePeer = (text: string): Peer => {
  const workload = /^([^/]+)\/(.+)\[(\w+)\]$/u.exec(text)
  if (workload !== null)
    return {
      _tag: "Workload",
      namespace: workload[1] ?? "",
      name: workload[2] ?? "",
      kind: workload[3] ?? "",
    }
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/u.exec(text)
  if (range !== null) return { _tag: "IpRange", first: range[1] ?? "", last: range[2] ?? "" }
  throw new Error(`cannot parse netpol-analyzer peer ${JSON.stringify(text)}`)
}

const isRaw = (x: unknown): x is ListedConnection["raw"] =>
  typeof x === "object" &&
  x !== null &&
  "src" in x &&
  "dst" in x &&
  "conn" in x &&
  typeof x.src === "string" &&
  typeof x.dst === "string" &&
  typeof x.conn === "string"

export interface ListOptions {
  /** Workloads as `ns/name` (a Deployment's pods are listed under their ReplicaSet: see {@link workloadOf}). */
  readonly focusWorkloads?: ReadonlyArray<string>
  /** With `focusWorkloads`: only their outgoing (`egress`) or incoming (`ingress`) connections. */
  readonly direction?: "egress" | "ingress"
}

const ipNumber = (ip: string): number => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0)

/**
 * Merges contiguous IP ranges of one source with the same connection. The analyzer cuts ranges at every
 * `ipBlock` boundary of every policy it loaded (in a shared cluster: other tests' policies too), so only
 * the merged form says what one workload may reach independently of its neighbours.
 */
const mergeRanges = (conns: ReadonlyArray<ListedConnection>): Array<ListedConnection> => {
  const rest = conns.filter((c) => c.dst._tag !== "IpRange")
  const ranges = conns
    .filter((c) => c.dst._tag === "IpRange")
    .sort(
      (a, b) =>
        (a.raw.src < b.raw.src ? -1 : a.raw.src > b.raw.src ? 1 : 0) ||
        (a.dst._tag === "IpRange" && b.dst._tag === "IpRange"
          ? ipNumber(a.dst.first) - ipNumber(b.dst.first)
          : 0),
    )
  const merged: Array<ListedConnection> = []
  for (const c of ranges) {
    const prev = merged[merged.length - 1]
    if (
      prev !== undefined &&
      prev.dst._tag === "IpRange" &&
      c.dst._tag === "IpRange" &&
      prev.raw.src === c.raw.src &&
      prev.raw.conn === c.raw.conn &&
      ipNumber(prev.dst.last) + 1 === ipNumber(c.dst.first)
    ) {
      const dst = { _tag: "IpRange" as const, first: prev.dst.first, last: c.dst.last }
      merged[merged.length - 1] = { ...prev, dst, raw: { ...prev.raw, dst: `${dst.first}-${dst.last}` } }
    } else merged.push(c)
  }
  return [...rest, ...merged]
}

/**
 * `list -o json` over the whole live cluster; contiguous IP ranges with the same connection are merged
 * (see `mergeRanges`), so `raw.dst` of a merged entry is ours, not the analyzer's.
 */
export const listConnections = async (
  options: ListOptions = {},
): Promise<ReadonlyArray<ListedConnection>> => {
  const focus = options.focusWorkloads ?? []
  const out = await run([
    "list",
    "-o",
    "json",
    ...(focus.length > 0 ? ["--focusworkload", focus.join(",")] : []),
    ...(focus.length > 0 && options.direction !== undefined ? ["--focus-direction", options.direction] : []),
  ])
  const start = out.indexOf("[")
  const parsed: unknown = JSON.parse(start < 0 ? "[]" : out.slice(start))
  if (!Array.isArray(parsed)) throw new Error(`netpol-analyzer list did not print a JSON array: ${out}`)
  return mergeRanges(
    parsed.map((entry: unknown) => {
      if (!isRaw(entry)) throw new Error(`unexpected netpol-analyzer list entry ${JSON.stringify(entry)}`)
      return { src: parsePeer(entry.src), dst: parsePeer(entry.dst), conn: parseConn(entry.conn), raw: entry }
    }),
  )
}

/** The analyzer's workload name of a pod: `ns/<controller owner name>` (a Deployment pod's ReplicaSet), else `ns/<pod>`. */
export const workloadOf = (pod: V1Pod): string => {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind !== "Node")
  return `${pod.metadata?.namespace ?? ""}/${owner?.name ?? pod.metadata?.name ?? ""}`
}

/** `192.0.2.0/24` → `{first: "192.0.2.0", last: "192.0.2.255"}` (IPv4), to compare with `IpRange` peers. */
export const ipv4Range = (cidr: string): { readonly first: string; readonly last: string } => {
  const [address = "", bitsText = "32"] = cidr.split("/")
  const octets = address.split(".").map(Number)
  const bits = Number(bitsText)
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(bits >= 0 && bits <= 32))
    throw new Error(`not an IPv4 CIDR: ${cidr}`)
  const value = octets.reduce((acc, o) => acc * 256 + o, 0)
  const size = 2 ** (32 - bits)
  const first = Math.floor(value / size) * size
  const text = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".")
  return { first: text(first), last: text(first + size - 1) }
}
