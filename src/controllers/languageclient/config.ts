/**
 * What the client application reads: ConfigMap `<name>-client` data (docs/languageclient.md §ConfigMap,
 * §Authentication), the `client` container's environment (docs/concepts.md §6.5, §Pod) and the Secret volumes it
 * mounts. PURE.
 *
 * Guarantees: deterministic (JSON keys sorted, lists in spec order); no credential enters the ConfigMap or
 * the environment — Secrets are only mounted (auth providers project just the referenced key); a user
 * `spec.env` entry with an operator variable's name replaces the operator's entry (no duplicates).
 */
import type { EnvVar } from "../../api/k8s/index.ts"
import type { LanguageClient } from "../../api/languageclient.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { modelsJson, toolsJson } from "../languageagent/configmap.ts"
import type { ResolvedModel, ResolvedPersona, ResolvedTool } from "../languageagent/dependencies.ts"
import { DUMMY_OPENAI_API_KEY } from "../languageagent/names.ts"
import { personaJson } from "../languagepersona/render.ts"
import type { ResolvedAgent } from "./dependencies.ts"
import { tlsSecretName } from "./dependencies.ts"
import {
  AUTH_SECRETS_DIR,
  authVolumeName,
  CONFIG_DIR,
  CONFIG_VOLUME,
  SESSION_SECRET_DIR,
  SESSION_SECRET_VOLUME,
  TLS_DIR,
  TLS_VOLUME,
} from "./names.ts"

export type AuthMode = "open" | "mixed" | "required"

/** docs/languageclient.md CL-3: disabled/absent → open; otherwise anonymous iff allowAnonymous && !requireAuthentication. */
export const authMode = (client: LanguageClient): AuthMode => {
  const auth = client.spec.authentication
  if (auth === undefined || !auth.enabled) return "open"
  return auth.allowAnonymous && !auth.requireAuthentication ? "mixed" : "required"
}

/** Enabled providers with their index in `providers` (the index names the volume `auth-<index>`). */
const enabledProviders = (client: LanguageClient) => {
  const auth = client.spec.authentication
  if (auth === undefined || !auth.enabled) return []
  return (auth.providers ?? []).flatMap((p, index) => (p.enabled ? [{ p, index }] : []))
}

/** `auth.json`: `{mode, providers: [{name, type, config, secretPath}], rbac}`. */
export const authJson = (client: LanguageClient): string =>
  canonicalJson({
    mode: authMode(client),
    providers: enabledProviders(client).map(({ p }) => ({
      name: p.name,
      type: p.type,
      config: p.config ?? {},
      ...(p.secretRef !== undefined
        ? { secretPath: `${AUTH_SECRETS_DIR}/${p.name}/${p.secretRef.key}` }
        : {}),
    })),
    ...(client.spec.authentication?.rbac !== undefined ? { rbac: client.spec.authentication.rbac } : {}),
  })

/** `agents.json`: enabled refs with `url` empty when unreachable. */
export const agentsJson = (agents: ReadonlyArray<ResolvedAgent>): string =>
  `[${agents
    .map((a) =>
      canonicalJson({
        name: a.name,
        namespace: a.namespace,
        url: a.url,
        displayName: a.displayName,
        description: a.description,
        icon: a.icon,
      }),
    )
    .join(",")}]`

export interface ConfigInput {
  readonly client: LanguageClient
  readonly models: ReadonlyArray<ResolvedModel>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly agents: ReadonlyArray<ResolvedAgent>
  readonly persona: ResolvedPersona | undefined
}

export const configMapData = (input: ConfigInput): Readonly<Record<string, string>> => {
  const { client, persona } = input
  const spec = client.spec
  const data: Record<string, string> = {
    "client.json": canonicalJson(spec),
    name: client.metadata.name ?? "",
    namespace: client.metadata.namespace ?? "",
    type: spec.type,
    "model-refs.json": canonicalJson(spec.modelRefs),
    "models.json": modelsJson(input.models),
    "tools.json": toolsJson(input.tools),
    "agents.json": agentsJson(input.agents),
    "auth.json": authJson(client),
  }
  if ((spec.toolRefs ?? []).length > 0) data["tool-refs.json"] = canonicalJson(spec.toolRefs)
  if (persona !== undefined) {
    data["persona.json"] = personaJson(persona.effective)
    data.persona_name = persona.name
  }
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

const value = (name: string, v: string): EnvVar => ({ name, value: v })
const joined = (urls: ReadonlyArray<string>) => urls.join(",")

export interface EnvInput {
  readonly client: LanguageClient
  /** The models of this Deployment (a region's own, or the client's). */
  readonly models: ReadonlyArray<ResolvedModel>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly agents: ReadonlyArray<ResolvedAgent>
  readonly persona: ResolvedPersona | undefined
}

/** docs/concepts.md §6.5 in order, then `spec.env` (a user entry replaces the operator's of the same name). */
export const clientEnv = (input: EnvInput): ReadonlyArray<EnvVar> => {
  const { client, models, tools } = input
  const spec = client.spec
  const out: Array<EnvVar> = [
    value("CLIENT_NAME", client.metadata.name ?? ""),
    value("CLIENT_NAMESPACE", client.metadata.namespace ?? ""),
    value("CLIENT_TYPE", spec.type),
    value("CLIENT_CONFIG_DIR", CONFIG_DIR),
    value("PORT", String(spec.port)),
  ]
  if (models.length > 0) {
    out.push(value("MODEL_ENDPOINTS", joined(models.map((m) => m.url))))
    out.push(value("LLM_MODEL", joined(models.map((m) => m.modelName))))
    out.push(value("OPENAI_API_KEY", DUMMY_OPENAI_API_KEY))
  }
  const mcp = tools.filter((t) => t.type === "mcp")
  const openapi = tools.filter((t) => t.type === "openapi")
  if (mcp.length > 0) out.push(value("MCP_SERVERS", joined(mcp.map((t) => t.url))))
  if (openapi.length > 0) out.push(value("OPENAPI_SERVERS", joined(openapi.map((t) => t.url))))
  const reachable = input.agents.filter((a) => a.url !== "")
  if (reachable.length > 0) out.push(value("AGENT_ENDPOINTS", joined(reachable.map((a) => a.url))))
  if (input.persona !== undefined) out.push(value("PERSONA_NAME", input.persona.name))
  if (spec.logging !== undefined) {
    out.push(value("LOG_LEVEL", spec.logging.level))
    out.push(value("LOG_FORMAT", spec.logging.format))
  }
  const user = spec.env ?? []
  const userNames = new Set(user.map((e) => e.name))
  return [...out.filter((e) => !userNames.has(e.name)), ...user]
}

export interface Mounts {
  readonly volumes: ReadonlyArray<Record<string, unknown>>
  readonly volumeMounts: ReadonlyArray<Record<string, unknown>>
}

/**
 * Operator volumes and mounts, in this order: config, auth provider Secrets, session Secret, TLS Secret
 * (only when the application terminates TLS itself: TLS enabled, Ingress disabled).
 */
export const operatorMounts = (client: LanguageClient, configMap: string): Mounts => {
  const volumes: Array<Record<string, unknown>> = [{ name: CONFIG_VOLUME, configMap: { name: configMap } }]
  const volumeMounts: Array<Record<string, unknown>> = [
    { name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true },
  ]
  for (const { p, index } of enabledProviders(client)) {
    if (p.secretRef === undefined) continue
    const name = authVolumeName(index)
    volumes.push({
      name,
      secret: { secretName: p.secretRef.name, items: [{ key: p.secretRef.key, path: p.secretRef.key }] },
    })
    volumeMounts.push({ name, mountPath: `${AUTH_SECRETS_DIR}/${p.name}/`, readOnly: true })
  }
  const session = client.spec.sessionConfig?.backendConfig?.secretRef
  if (session !== undefined) {
    volumes.push({ name: SESSION_SECRET_VOLUME, secret: { secretName: session.name } })
    volumeMounts.push({ name: SESSION_SECRET_VOLUME, mountPath: `${SESSION_SECRET_DIR}/`, readOnly: true })
  }
  const tls = tlsSecretName(client)
  if (tls !== undefined && client.spec.ingress?.enabled !== true) {
    volumes.push({ name: TLS_VOLUME, secret: { secretName: tls } })
    volumeMounts.push({ name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true })
  }
  return { volumes, volumeMounts }
}
