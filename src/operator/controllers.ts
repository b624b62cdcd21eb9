/**
 * The registry of every controller the operator runs: one entry per kind whose reconciler exists.
 *
 * It is the one list that `npm start`, the Deployment (through the generated RBAC, rbac.ts) and the
 * tests read, so a controller that is registered here is run AND granted its permissions, and one
 * that is not is neither.
 *
 * Guarantees: `operatorControllers` builds every registered controller from the settings or fails
 * with one message per malformed setting (the controllers validate their own option groups);
 * entries are in a stable order (cluster first: namespaces are what the others wait for).
 * Assumption: every controller's requirements are among {@link ControllerServices}; the layer that
 * provides the extra ones is {@link controllerServicesLayer}.
 */
import { Duration, Layer, Result } from "effect"
import { languageAgentControllerFromSettings } from "../controllers/languageagent/index.ts"
import { proxyMetricsUsageLayer } from "../controllers/languageagent/usage.ts"
import { languageClientControllerFromSettings } from "../controllers/languageclient/index.ts"
import { languageClusterControllerFromSettings } from "../controllers/languagecluster/index.ts"
import { languageModelControllerFromSettings } from "../controllers/languagemodel/index.ts"
import { languagePersonaControllerFromSettings } from "../controllers/languagepersona/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../controllers/languagetool/index.ts"
import type { KubeClient } from "../kube/client.ts"
import { Dns, parseServers } from "../network/dns.ts"
import { DnsMemory } from "../network/memory.ts"
import type { Controller } from "../runtime/controller.ts"
import type { RuntimeServices } from "../runtime/manager.ts"
import type { SettingsShape } from "../settings.ts"

/**
 * What a registered controller may require: the runtime services and the client (the manager's), and
 * the egress name resolver with its grace memory ({@link controllerServicesLayer}).
 */
export type ControllerServices = KubeClient | RuntimeServices | Dns | DnsMemory

export interface ControllerEntry {
  /** The controller's name (its `CONTROLLER_NAME`; also the RBAC component name, rbac.ts). */
  readonly name: string
  /** The kind it reconciles. */
  readonly kind: string
  readonly make: (settings: SettingsShape) => Result.Result<Controller<ControllerServices>, string>
}

const always =
  (f: (s: SettingsShape) => Controller<ControllerServices>) =>
  (s: SettingsShape): Result.Result<Controller<ControllerServices>, string> =>
    Result.succeed(f(s))

/** Every controller that exists, in start order. */
export const controllerRegistry: ReadonlyArray<ControllerEntry> = [
  { name: "languagecluster", kind: "LanguageCluster", make: always(languageClusterControllerFromSettings) },
  { name: "languagepersona", kind: "LanguagePersona", make: always(languagePersonaControllerFromSettings) },
  {
    name: "languagetool",
    kind: "LanguageTool",
    make: (s) => Result.map(toolControllerOptionsFromSettings(s), languageToolController),
  },
  { name: "languagemodel", kind: "LanguageModel", make: languageModelControllerFromSettings },
  { name: "languageagent", kind: "LanguageAgent", make: languageAgentControllerFromSettings },
  { name: "languageclient", kind: "LanguageClient", make: always(languageClientControllerFromSettings) },
]

/** Names of the registered controllers. */
export const registeredControllerNames: ReadonlyArray<string> = controllerRegistry.map((e) => e.name)

/** Builds every registered controller; fails with every malformed setting's message. */
export const operatorControllers = (
  settings: SettingsShape,
): Result.Result<ReadonlyArray<Controller<ControllerServices>>, ReadonlyArray<string>> => {
  const built = controllerRegistry.map((entry) => entry.make(settings))
  const failures = built.flatMap((r) => (Result.isFailure(r) ? [r.failure] : []))
  if (failures.length > 0) return Result.fail(failures)
  return Result.succeed(built.flatMap((r) => (Result.isSuccess(r) ? [r.success] : [])))
}

/**
 * Services controllers need beyond the runtime's: the egress DNS resolver and its grace memory (shared),
 * and — with LANGOP_USAGE_ATTRIBUTION — the agent usage source that reads the model proxies' per-user
 * counters (without it agents report no usage, as the spec requires).
 */
export const controllerServicesLayer = (settings: SettingsShape): Layer.Layer<Dns | DnsMemory> =>
  Layer.mergeAll(
    Dns.layer({
      servers: parseServers(settings.dnsServers),
      timeoutMs: Duration.toMillis(settings.dnsTimeout),
    }),
    DnsMemory.layer,
    settings.usageAttribution
      ? proxyMetricsUsageLayer({ clusterDomain: settings.clusterDomain })
      : Layer.empty,
  )
