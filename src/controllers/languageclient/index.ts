/**
 * The LanguageClient controller (docs/languageclient.md): gather → decide → act.
 *
 * Triggers (docs/concepts.md §10): the client itself; its generated children (owned: drift is repaired and
 * Deployment/Ingress/Service status changes update the client's status); its Pods (failure detection);
 * referenced LanguageModels, LanguageTools, LanguageAgents, Secrets and the ConfigMaps its env reads
 * (through indexes over the client's references); its LanguagePersona or any ancestor of it (the client renders the whole inheritance chain,
 * so a change to a parent maps to every persona inheriting from it, then to the clients referencing one);
 * its LanguageCluster (membership).
 */
import { Effect } from "effect"
import { defineController, Reconciled, type ReconcileRequest, watches } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import type { InformersShape } from "../../runtime/informers.ts"
import {
  agentSource,
  clusterSource,
  configMapSource,
  managedPodSource,
  modelSource,
  podOwnerOf,
  secretSource,
  toolSource,
} from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { membersOfCluster } from "../common/cluster-membership.ts"
import { personas } from "../languagepersona/gather.ts"
import { referrersOfPersona } from "../languagepersona/index.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import { decide } from "./decide.ts"
import {
  AGENT_INDEX,
  CLUSTER_INDEX,
  CONFIGMAP_INDEX,
  childSources,
  clients,
  gather,
  MODEL_INDEX,
  PERSONA_INDEX,
  SECRET_INDEX,
  TOOL_INDEX,
} from "./gather.ts"
import { KIND } from "./names.ts"

export const CONTROLLER_NAME = "languageclient"

export interface ClientControllerOptions extends ActOptions {
  readonly clusterDomain: string
  /** Operator setting LANGOP_DEFAULT_CLIENT_ISSUER (cert-manager issuer when the spec names none). */
  readonly defaultIssuer: string | undefined
}

export const reconcileClient = (req: ReconcileRequest, options: ClientControllerOptions) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req, options)
    switch (gathered._tag) {
      case "Gone":
        return Reconciled.done
      case "Deleting":
        return yield* cleanup(gathered.client, options.fieldManager)
      case "Live":
        return yield* act(gathered.input, decide(gathered.input), options)
    }
  })

/** A Pod of a client's Deployment → that client. */
export const clientOfPod = podOwnerOf(KIND)

/** Map function: clients whose index `index` holds the `ns/name` of the changed object. */
export const referencing =
  (index: string) =>
  (
    obj: {
      readonly metadata: { readonly namespace?: string | undefined; readonly name?: string | undefined }
    },
    informers: InformersShape,
  ) =>
    informers.cache(clients).keysByIndex(index, `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`)

/** The clients whose persona is `persona` or inherits from it. */
export const clientsOfPersona = referrersOfPersona(clients, PERSONA_INDEX)

const watchRefs = <T extends { readonly metadata: { readonly namespace?: string; readonly name?: string } }>(
  source: InformerSource<T>,
  index: string,
) => watches(source, referencing(index))

export const languageClientController = (options: ClientControllerOptions) =>
  defineController({
    name: CONTROLLER_NAME,
    for: clients,
    owns: childSources,
    watches: [
      watches(managedPodSource, clientOfPod),
      watchRefs(modelSource, MODEL_INDEX),
      watchRefs(toolSource, TOOL_INDEX),
      watchRefs(agentSource, AGENT_INDEX),
      watches(personas, clientsOfPersona),
      watchRefs(secretSource, SECRET_INDEX),
      watchRefs(configMapSource, CONFIGMAP_INDEX),
      watches(clusterSource, membersOfCluster(clients, CLUSTER_INDEX)),
    ],
    reconcile: (req) => reconcileClient(req, options),
  })

export const clientControllerOptionsFromSettings = (
  s: Pick<SettingsShape, "fieldManager" | "dependencyWaitRequeue" | "clusterDomain" | "defaultClientIssuer">,
): ClientControllerOptions => ({
  fieldManager: s.fieldManager,
  dependencyWait: s.dependencyWaitRequeue,
  clusterDomain: s.clusterDomain,
  defaultIssuer: s.defaultClientIssuer,
})

export const languageClientControllerFromSettings = (s: SettingsShape) =>
  languageClientController(clientControllerOptionsFromSettings(s))

export type { ActOptions } from "./act.ts"
