// Every process-level operator setting in one place: its environment variable, default, type and
// the reason for the default. `settingsTable` is the same list as plain rows for the README.
//
// Guarantees: reading the settings fails (at startup, with the variable named) on a malformed value
// rather than falling back silently; absent variables take the documented default.
import { Config, ConfigProvider, Context, Duration, type Effect, Layer, Option, Schema } from "effect"

/** Go-style duration as Kubernetes users write it: `15s`, `1m30s`, `500ms`, `2h`. */
const GO_DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/u
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses `1m30s` into milliseconds (the input must match GO_DURATION). */
export const parseGoDuration = (s: string): number => {
  let total = 0
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/gu))
    total += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 0)
  return Math.round(total)
}

/** `host:port`, `:port` (all interfaces) or `0` (disabled). */
const BIND_ADDRESS = /^(0|(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5})$/u

export interface BindAddress {
  readonly host: string
  readonly port: number
}

/** `undefined` when the server is disabled (`0`). */
export const parseBindAddress = (s: string): BindAddress | undefined => {
  if (s === "0") return undefined
  const i = s.lastIndexOf(":")
  const host = s.slice(0, i).replace(/^\[|\]$/gu, "")
  return { host: host === "" ? "0.0.0.0" : host, port: Number(s.slice(i + 1)) }
}

/** One line of the README's settings table. */
export interface SettingRow {
  /** Field of `SettingsShape`. */
  readonly name: string
  readonly env: string
  readonly default: string
  readonly description: string
}
type Row = Omit<SettingRow, "name">
const rows = new Map<Config.Config<unknown>, Row>()

const row = <A>(
  env: string,
  def: string,
  description: string,
  config: Config.Config<A>,
): Config.Config<A> => {
  rows.set(config, { env, default: def, description })
  return config
}

const str = (env: string, def: string, description: string) =>
  row(env, def, description, Config.String(env).pipe(Config.withDefault(def)))
const optStr = (env: string, description: string) =>
  row(
    env,
    "(unset)",
    description,
    Config.option(Config.String(env)).pipe(
      Config.map((o) => Option.getOrUndefined(Option.filter(o, (s) => s !== ""))),
    ),
  )
const int = (env: string, def: number, description: string) =>
  row(env, String(def), description, Config.Int(env).pipe(Config.withDefault(def)))
const bool = (env: string, def: boolean, description: string) =>
  row(env, String(def), description, Config.Boolean(env).pipe(Config.withDefault(def)))
const dur = (env: string, def: string, description: string) =>
  row(
    env,
    def,
    description,
    Config.schema(Schema.String.check(Schema.isPattern(GO_DURATION)), env).pipe(
      Config.withDefault(def),
      Config.map((s) => Duration.millis(parseGoDuration(s))),
    ),
  )
const bind = (env: string, def: string, description: string) =>
  row(
    env,
    def,
    description,
    Config.schema(Schema.String.check(Schema.isPattern(BIND_ADDRESS)), env).pipe(
      Config.withDefault(def),
      Config.map(parseBindAddress),
    ),
  )
/** An absolute http(s) URL, or unset. */
const url = (env: string, description: string) =>
  row(
    env,
    "(unset)",
    description,
    Config.option(
      Config.schema(Schema.String.check(Schema.isPattern(/^https?:\/\/[^\s/]+(\/\S*)?$/u)), env),
    ).pipe(Config.map(Option.getOrUndefined)),
  )
const oneOf = <const L extends ReadonlyArray<string>>(
  env: string,
  values: L,
  def: L[number],
  description: string,
) =>
  row(
    env,
    def,
    `${description} One of: ${values.join(", ")}.`,
    Config.Literals(values, env).pipe(Config.withDefault(def)),
  )

const definitions = {
  // --- logging ---
  logLevel: oneOf(
    "LANGOP_LOG_LEVEL",
    ["trace", "debug", "info", "warn", "error"],
    "info",
    "Minimum level of the JSON log lines. `info` gives one line per reconcile outcome change and every write; `debug` adds every reconcile.",
  ),

  // --- tracing: the standard OpenTelemetry variables (src/runtime/tracing.ts) ---
  tracesEndpoint: url(
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "URL spans are POSTed to as is (OTLP/HTTP, e.g. `http://otel-collector:4318/v1/traces`); wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.",
  ),
  tracesBaseEndpoint: url(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "Base URL of an OTLP/HTTP receiver; spans go to `<url>/v1/traces`. With neither endpoint set tracing is off and no span is made. Spans: one per reconcile (controller, key, reconcileID, result) with its API calls as children, one per admission request.",
  ),
  tracesProtocol: oneOf(
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    ["http/protobuf", "http/json"],
    "http/protobuf",
    "OTLP/HTTP body encoding (gRPC is not offered).",
  ),
  tracesHeaders: optStr(
    "OTEL_EXPORTER_OTLP_HEADERS",
    "Extra headers on every export, `key=value,key2=value2` with URL-encoded values (e.g. a collector token).",
  ),
  otelServiceName: optStr(
    "OTEL_SERVICE_NAME",
    "`service.name` of the spans; unset = `service.name` from `OTEL_RESOURCE_ATTRIBUTES`, else `langop-operator`.",
  ),
  otelResourceAttributes: optStr(
    "OTEL_RESOURCE_ATTRIBUTES",
    "Resource attributes on every span, `key=value,key2=value2` with URL-encoded values (e.g. `deployment.environment=prod`).",
  ),
  tracesSampler: oneOf(
    "OTEL_TRACES_SAMPLER",
    [
      "always_on",
      "always_off",
      "traceidratio",
      "parentbased_always_on",
      "parentbased_always_off",
      "parentbased_traceidratio",
    ],
    "parentbased_always_on",
    "Which traces are kept; the parent-based ones follow the parent span's decision.",
  ),
  tracesSamplerArg: row(
    "OTEL_TRACES_SAMPLER_ARG",
    "1",
    "Fraction of traces the `traceidratio` samplers keep, 0 to 1.",
    Config.schema(
      Schema.NumberFromString.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
      "OTEL_TRACES_SAMPLER_ARG",
    ).pipe(Config.withDefault(1)),
  ),

  // --- servers ---
  metricsBindAddress: bind(
    "LANGOP_METRICS_BIND_ADDRESS",
    "127.0.0.1:8080",
    "Prometheus `/metrics` listener (`0` disables). Loopback by default so a developer run exposes nothing; the Deployment sets `0.0.0.0:8080`.",
  ),
  healthProbeBindAddress: bind(
    "LANGOP_HEALTH_PROBE_BIND_ADDRESS",
    "127.0.0.1:8081",
    "`/healthz` and `/readyz` listener (`0` disables); controller-runtime's port. The Deployment sets `0.0.0.0:8081` for kubelet probes.",
  ),
  webhookHost: str(
    "LANGOP_WEBHOOK_HOST",
    "127.0.0.1",
    "Address the admission server binds. Loopback for out-of-cluster runs (the API server calls `https://127.0.0.1:<port>`); `0.0.0.0` in a Pod.",
  ),
  webhookPort: int(
    "LANGOP_WEBHOOK_PORT",
    9443,
    "Admission server port; 9443 as in controller-runtime (the Service maps 443 to it).",
  ),
  certDir: str(
    "LANGOP_CERT_DIR",
    "/tmp/k8s-webhook-server/serving-certs",
    "Directory holding `tls.crt` and `tls.key` for the admission server (controller-runtime's default path); reloaded on change.",
  ),
  certSource: oneOf(
    "LANGOP_CERT_SOURCE",
    ["cert-manager", "self", "files"],
    "files",
    "Who provides the serving certificate: cert-manager (CA injected by cainjector), the operator's own certificate manager (`self`: CA + certificate in a Secret, `caBundle` patched), or pre-existing files in the cert dir (development, tests).",
  ),
  certSecretName: str(
    "LANGOP_CERT_SECRET_NAME",
    "langop-webhook-tls",
    "Secret (in the operator namespace) the `self` certificate manager keeps the CA and serving certificate in.",
  ),
  selfCertValidity: dur(
    "LANGOP_SELF_CERT_VALIDITY",
    "2160h",
    "Validity of the serving certificate the `self` certificate manager issues (90 days, as cert-manager's default); renewed with a third left.",
  ),
  selfCaValidity: dur(
    "LANGOP_SELF_CA_VALIDITY",
    "87600h",
    "Validity of the `self` certificate manager's CA (10 years); replaced with a third left, the old CA staying trusted until it expires.",
  ),

  // --- identity and leader election ---
  operatorNamespace: str(
    "POD_NAMESPACE",
    "langop-system",
    "Namespace the operator runs in (downward API); holds the leader-election Lease and the certificate Secret.",
  ),
  podName: optStr(
    "POD_NAME",
    "Pod name (downward API); used as the Event reporting instance and as the leader-election identity prefix. Falls back to the host name.",
  ),
  leaderElect: bool(
    "LANGOP_LEADER_ELECT",
    true,
    "Run controllers only on the replica holding the Lease. On by default so two replicas can never reconcile concurrently; set false for a single local process.",
  ),
  leaderElectionId: str(
    "LANGOP_LEADER_ELECTION_ID",
    "langop.io",
    "Name of the coordination.k8s.io/v1 Lease the replicas elect a leader with.",
  ),
  leaseDuration: dur(
    "LANGOP_LEASE_DURATION",
    "15s",
    "How long non-leaders wait after the last observed renewal before taking over (client-go default). Longer = slower failover, shorter = more API writes and risk of flapping.",
  ),
  renewDeadline: dur(
    "LANGOP_RENEW_DEADLINE",
    "10s",
    "The leader gives up leadership if it cannot renew within this time; must be < lease duration so it stops before another replica may start (client-go default).",
  ),
  retryPeriod: dur(
    "LANGOP_RETRY_PERIOD",
    "2s",
    "Interval between acquire/renew attempts (client-go default).",
  ),
  releaseOnCancel: bool(
    "LANGOP_LEADER_RELEASE_ON_CANCEL",
    true,
    "On graceful shutdown, release the Lease (empty holder, 1 s duration) so the next replica takes over at once instead of after the lease duration.",
  ),
  gracefulShutdownTimeout: dur(
    "LANGOP_GRACEFUL_SHUTDOWN_TIMEOUT",
    "30s",
    "On SIGTERM, time in-flight reconciles get to finish before they are interrupted (controller-runtime default; fits the Pod's 30 s terminationGracePeriod only if lowered — set both together).",
  ),

  // --- controllers ---
  maxConcurrentReconciles: int(
    "LANGOP_MAX_CONCURRENT_RECONCILES",
    5,
    "Workers per controller (keys are still processed one at a time each).",
  ),
  concurrencyOverrides: str(
    "LANGOP_CONCURRENCY_OVERRIDES",
    "",
    "Per-controller worker counts, e.g. `languageagent=10,languagetool=2`; unlisted controllers use the default above.",
  ),
  syncPeriod: dur(
    "LANGOP_SYNC_PERIOD",
    "10m",
    "Every object is re-queued (at low priority) this often, jittered ±10%, to repair drift nobody was notified about (controller-runtime's default).",
  ),
  watchNamespaces: str(
    "LANGOP_WATCH_NAMESPACES",
    "",
    "Comma-separated namespaces to watch; empty = all namespaces.",
  ),
  fieldManager: str(
    "LANGOP_FIELD_MANAGER",
    "langop-operator",
    "Server-side-apply field manager for everything the operator writes; must stay stable across versions or ownership of fields is lost.",
  ),
  dependencyWaitRequeue: dur(
    "LANGOP_DEPENDENCY_WAIT_REQUEUE",
    "10s",
    "Requeue delay while waiting for a dependency (cluster not Ready, referenced object missing); short because watches usually trigger earlier anyway.",
  ),

  // --- networking ---
  clusterDomain: str(
    "LANGOP_CLUSTER_DOMAIN",
    "cluster.local",
    "Cluster DNS suffix used in generated in-cluster URLs (`<svc>.<ns>.svc.<domain>`).",
  ),
  dnsRefreshInterval: dur(
    "LANGOP_DNS_REFRESH_INTERVAL",
    "5m",
    "Objects whose egress policy has DNS-derived peers are re-resolved this often; also the grace period addresses are kept after they disappear (flap damping).",
  ),
  dnsServers: str(
    "LANGOP_DNS_SERVERS",
    "",
    "Comma-separated name servers (`ip`, `ip:port`, `[ipv6]:port`) the operator resolves egress `dns` names with; empty = the system resolver configuration (in a Pod: the cluster DNS).",
  ),
  dnsTimeout: dur(
    "LANGOP_DNS_TIMEOUT",
    "2s",
    "Per-query timeout of egress name resolution (2 tries per server); a timed-out name is reported in `EgressResolved` and keeps its recently seen addresses.",
  ),
  dnsNamespace: str(
    "LANGOP_DNS_NAMESPACE",
    "kube-system",
    "Namespace of the cluster DNS pods for the egress DNS rule (OpenShift: `openshift-dns`).",
  ),
  dnsPodLabels: str(
    "LANGOP_DNS_POD_LABELS",
    "k8s-app=kube-dns",
    "Label selector (`k=v,k2=v2`) of the cluster DNS pods for the egress DNS rule; empty = no DNS pods (then `LANGOP_DNS_CIDRS` must name the DNS servers).",
  ),
  dnsCidrs: str(
    "LANGOP_DNS_CIDRS",
    "",
    "Comma-separated CIDRs (or addresses) where DNS answers outside any pod, e.g. NodeLocal DNSCache's `169.254.20.10/32` or the nodes' addresses for host-network DNS: every egress policy also allows the DNS ports to them. Used together with `LANGOP_DNS_POD_LABELS`, or instead of it when that is set empty.",
  ),
  dnsPorts: str(
    "LANGOP_DNS_PORTS",
    "UDP/53,TCP/53",
    "Ports of the egress DNS rule (OpenShift DNS listens on 5353).",
  ),
  ciliumFqdnPolicies: bool(
    "LANGOP_CILIUM_FQDN_POLICIES",
    false,
    "Also write a CiliumNetworkPolicy `<name>-fqdn` with `toFQDNs` for egress DNS names (Cilium then follows the pods' own DNS answers, and `*.example.com` matches every name one label below example.com); skipped, with one warning at start, while Cilium's CRD is not served; turning it off removes them at the next start.",
  ),

  // --- model proxies ---
  modelProxyImage: str(
    "LANGOP_MODEL_PROXY_IMAGE",
    "ghcr.io/berriai/litellm:v1.83.10-stable",
    "LiteLLM proxy image for LanguageModels (pinned: rendered config keys are verified against this version).",
  ),
  modelProxyMode: oneOf(
    "LANGOP_MODEL_PROXY_MODE",
    ["rendered", "legacy"],
    "rendered",
    "`rendered`: the operator writes LiteLLM's config.yaml; `legacy`: the image generates it from the ConfigMap's model.json (for proxy images that expect to).",
  ),
  modelMetricsScrape: bool(
    "LANGOP_MODEL_METRICS_SCRAPE",
    false,
    "Poll each model proxy's /metrics into LanguageModel status (needs network reach from the operator to the proxies).",
  ),
  modelMetricsInterval: dur(
    "LANGOP_MODEL_METRICS_INTERVAL",
    "60s",
    "Polling interval of the model metrics scrape; with LANGOP_USAGE_ATTRIBUTION also how often each agent reads its usage again.",
  ),
  modelHealthPolling: bool(
    "LANGOP_MODEL_HEALTH_POLLING",
    false,
    "Poll model proxy health endpoints into status; off because LiteLLM health checks make real, billed model calls.",
  ),
  sharedRedisHost: optStr(
    "LANGOP_SHARED_REDIS_HOST",
    "Shared Redis for LiteLLM response caching (host); unset = `local` cache only.",
  ),
  sharedRedisPort: int("LANGOP_SHARED_REDIS_PORT", 6379, "Port of the shared Redis."),
  sharedRedisPasswordSecret: optStr(
    "LANGOP_SHARED_REDIS_PASSWORD_SECRET",
    "`<secret>/<key>` holding the Redis password, read from each model's own namespace (Secrets are never copied).",
  ),

  // --- agents, tools, clients ---
  otlpEndpoint: optStr(
    "LANGOP_OTLP_ENDPOINT",
    "OTLP collector endpoint injected into workloads with tracing enabled; unset = tracing reported unavailable.",
  ),
  defaultWorkspaceFsGroup: optStr(
    "LANGOP_DEFAULT_WORKSPACE_FSGROUP",
    "fsGroup set on agent pods with a workspace when the spec sets none (docs/languageagent.md AG-7); unset = leave to the image.",
  ),
  usageAttribution: bool(
    "LANGOP_USAGE_ATTRIBUTION",
    false,
    "Per-agent usage (docs/languageagent.md AG-12): agent runtimes send `<namespace>/<agent>` as the OpenAI `user`; model proxies count per end user (Prometheus) and the operator reads each referenced proxy's /metrics into LanguageAgent `modelUsage`, `metrics.totalTokens` and `costMetrics` (needs network reach from the operator to the proxies).",
  ),
  mcpToolDiscovery: bool(
    "LANGOP_MCP_TOOL_DISCOVERY",
    false,
    "Query ready MCP tool servers for their tool list into status (docs/languagetool.md §Discovery).",
  ),
  defaultClientIssuer: optStr(
    "LANGOP_DEFAULT_CLIENT_ISSUER",
    "cert-manager Issuer used for LanguageClient TLS when the spec names none.",
  ),
}
const config = Config.all(definitions)

export type SettingsShape = Config.Success<typeof config>

export class Settings extends Context.Service<Settings, SettingsShape>()("langop/Settings") {
  /** Reads every setting from the environment (the current ConfigProvider). */
  static readonly layer: Layer.Layer<Settings, Config.ConfigError> = Layer.effect(Settings, config)
}

/** Reads the settings from an explicit record (tests). */
export const settingsFrom = (
  env: Readonly<Record<string, string>>,
): Effect.Effect<SettingsShape, Config.ConfigError> => config.parse(ConfigProvider.fromEnvRecord({ ...env }))

/** The settings as rows (env var, default, description) for the README table. */
export const settingsTable: ReadonlyArray<SettingRow> = Object.entries(definitions).map(([name, c]) => {
  const r = rows.get(c)
  return { name, env: r?.env ?? "", default: r?.default ?? "", description: r?.description ?? "" }
})

/** The settings table as Markdown (for the README; a test can compare the two). */
export const settingsMarkdown = (): string =>
  [
    "| Environment variable | Default | Description |",
    "|---|---|---|",
    ...settingsTable.map(
      (r) => `| \`${r.env}\` | \`${r.default}\` | ${r.description.replaceAll("|", "\\|")} |`,
    ),
  ].join("\n")

/** `languageagent=10,languagetool=2` → per-controller worker counts. */
export const concurrencyFor = (s: SettingsShape, controller: string): number => {
  for (const part of s.concurrencyOverrides.split(",")) {
    const [name, n] = part.split("=").map((x) => x.trim())
    if (name === controller && n !== undefined && /^\d+$/u.test(n)) return Math.max(1, Number(n))
  }
  return s.maxConcurrentReconciles
}

/** Namespaces to watch; empty array = all. */
export const watchNamespacesOf = (s: SettingsShape): ReadonlyArray<string> =>
  s.watchNamespaces
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
