/**
 * Startup checks that turn the usual ways a start fails into one actionable sentence each
 * ({@link StartupError}) before anything is started: listen ports already taken, an API server that
 * cannot be reached or rejects the credentials, and missing RBAC permissions.
 *
 * Guarantees: `checkPorts` binds and immediately releases each configured address (a race with
 * another process remains possible; the servers then fail on their own, and main.ts maps that too);
 * `checkPermissions` asks the API server itself (SelfSubjectAccessReview) for every permission the
 * running components need, as rbac.ts declares them, and lists every one that is missing.
 */
import { createServer } from "node:net"
import { Effect } from "effect"
import { KubeClient } from "../kube/client.ts"
import { describeError, type KubeError } from "../kube/errors.ts"
import { resource } from "../kube/resources.ts"
import type { BindAddress, SettingsShape } from "../settings.ts"
import { StartupError } from "./errors.ts"
import {
  activeGrants,
  clusterGrants,
  describePermission,
  leaderElectionGrants,
  type Permission,
  permissionsOf,
  policyRules,
  selfCertGrants,
} from "./rbac.ts"

export const SelfSubjectAccessReview = resource(
  "authorization.k8s.io",
  "v1",
  "SelfSubjectAccessReview",
  "selfsubjectaccessreviews",
  false,
)

interface Listener {
  readonly what: string
  readonly setting: string
  readonly bind: BindAddress
}

/** The listeners the settings ask for (disabled ones left out). */
export const listenersOf = (s: SettingsShape): ReadonlyArray<Listener> => [
  {
    what: "admission server",
    setting: "LANGOP_WEBHOOK_PORT",
    bind: { host: s.webhookHost, port: s.webhookPort },
  },
  ...(s.healthProbeBindAddress === undefined
    ? []
    : [
        {
          what: "health probes",
          setting: "LANGOP_HEALTH_PROBE_BIND_ADDRESS",
          bind: s.healthProbeBindAddress,
        },
      ]),
  ...(s.metricsBindAddress === undefined
    ? []
    : [{ what: "metrics", setting: "LANGOP_METRICS_BIND_ADDRESS", bind: s.metricsBindAddress }]),
]

const tryBind = (bind: BindAddress) =>
  Effect.callback<string | undefined>((resume) => {
    const server = createServer()
    server.once("error", (e: NodeJS.ErrnoException) => resume(Effect.succeed(e.code ?? e.message)))
    server.listen(bind.port, bind.host, () => server.close(() => resume(Effect.succeed(undefined))))
  })

const authority = (b: BindAddress) => (b.host.includes(":") ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`)

/** The sentence for a listen failure (also used when a server fails to bind after this check). */
export const portProblem = (l: Listener, code: string): string =>
  code === "EADDRINUSE"
    ? `${authority(l.bind)} (${l.what}) is already in use: stop the process listening there or set ${l.setting} to a free port.`
    : `cannot listen on ${authority(l.bind)} (${l.what}): ${code}; set ${l.setting} to an address this host can bind.`

/** Fails with the first listener that cannot bind. */
export const checkPorts = (s: SettingsShape): Effect.Effect<void, StartupError> =>
  Effect.forEach(listenersOf(s), (l) =>
    Effect.flatMap(tryBind(l.bind), (code) =>
      code === undefined ? Effect.void : Effect.fail(new StartupError({ message: portProblem(l, code) })),
    ),
  ).pipe(Effect.asVoid)

/** One SelfSubjectAccessReview: is the current identity allowed `p`? */
export const selfAllowed = (p: Permission): Effect.Effect<boolean, KubeError, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const review = yield* client.create(SelfSubjectAccessReview, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: {},
      spec: {
        resourceAttributes: {
          group: p.group,
          resource: p.resource,
          verb: p.verb,
          ...(p.subresource === undefined ? {} : { subresource: p.subresource }),
          ...(p.namespace === "" ? {} : { namespace: p.namespace }),
          ...(p.name === undefined ? {} : { name: p.name }),
        },
      },
    })
    return (review as { status?: { allowed?: boolean } }).status?.allowed === true
  })

/** The sentence for an API server that cannot be reached or refuses us. */
export const reachProblem = (server: string, e: KubeError): string => {
  switch (e._tag) {
    case "Unauthorized":
      return `the API server at ${server} rejected the credentials of the current kubeconfig context (${e.message}): log in again or select another context.`
    case "Transient":
      return e.code === 0
        ? `cannot reach the Kubernetes API server at ${server} (${e.message}): start the cluster or point KUBECONFIG at a reachable one (unset it, with no ~/.kube/config, to let npm start run a local control plane).`
        : `the Kubernetes API server at ${server} is not healthy (${describeError(e)}): retry when it is.`
    default:
      return `the Kubernetes API server at ${server} refused a basic request (${describeError(e)}): check the kubeconfig's user and the cluster.`
  }
}

/** Fails with a sentence when the API server cannot be reached or does not accept the credentials. */
export const checkReachable = (server: string): Effect.Effect<void, StartupError, KubeClient> =>
  selfAllowed({ group: "", resource: "namespaces", verb: "get", namespace: "" }).pipe(
    Effect.asVoid,
    Effect.mapError((e) => new StartupError({ message: reachProblem(server, e) })),
  )

/** Every permission the components the settings enable need (cluster-wide and in the operator namespace). */
export const requiredPermissions = (
  s: SettingsShape,
  components: ReadonlySet<string>,
): ReadonlyArray<Permission> => [
  ...permissionsOf(policyRules(activeGrants(clusterGrants, components)), ""),
  ...(s.leaderElect ? permissionsOf(policyRules(leaderElectionGrants), s.operatorNamespace) : []),
  ...(s.certSource === "self"
    ? [
        ...permissionsOf(policyRules(selfCertGrants(s.certSecretName).namespaced), s.operatorNamespace),
        ...permissionsOf(policyRules(selfCertGrants(s.certSecretName).cluster), ""),
      ]
    : []),
]

/** `get/list/watch configmaps, update leases.coordination.k8s.io in ns`: verbs grouped per resource. */
export const groupedPermissions = (ps: ReadonlyArray<Permission>): string => {
  const groups = new Map<string, Array<string>>()
  for (const p of ps) {
    const what = describePermission(p).slice(p.verb.length + 1)
    groups.set(what, [...(groups.get(what) ?? []), p.verb])
  }
  return [...groups].map(([what, verbs]) => `${verbs.join("/")} ${what}`).join(", ")
}

/** Fails listing every permission the current identity lacks. */
export const checkPermissions = (
  s: SettingsShape,
  components: ReadonlySet<string>,
  identityHint: string,
): Effect.Effect<void, StartupError, KubeClient> =>
  Effect.gen(function* () {
    const needed = requiredPermissions(s, components)
    const results = yield* Effect.forEach(needed, (p) => Effect.map(selfAllowed(p), (ok) => ({ p, ok })), {
      concurrency: 8,
    }).pipe(
      Effect.mapError(
        (e) => new StartupError({ message: `cannot check the operator's permissions: ${describeError(e)}.` }),
      ),
    )
    const missing = results.filter((r) => !r.ok).map((r) => r.p)
    if (missing.length === 0) return
    return yield* new StartupError({
      message: `${identityHint} lacks ${missing.length} RBAC permission${missing.length === 1 ? "" : "s"} the operator needs (${groupedPermissions(missing)}): apply the operator's RBAC (\`kubectl apply -k deploy/\`, ClusterRole langop-operator and Role langop-leader-election) and bind it to this identity, or use a kubeconfig that has them.`,
    })
  })
