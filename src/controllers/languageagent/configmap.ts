/**
 * ConfigMap `<agent>-agent` (docs/languageagent.md §ConfigMap). PURE.
 *
 * Guarantees: data depends only on the agent spec, its resolved models/tools and the effective persona,
 * never on time; JSON copied from a resource has its keys sorted recursively, JSON whose keys the spec
 * lists keeps that order; keys the spec calls optional are absent (never empty) when their value is empty;
 * no credential ever enters the ConfigMap (Secrets are referenced, not read).
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { personaJson } from "../languagepersona/render.ts"
import type { ResolvedModel, ResolvedPersona, ResolvedTool } from "./dependencies.ts"

export interface ConfigMapDataInput {
  readonly agent: LanguageAgent
  readonly models: ReadonlyArray<ResolvedModel>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly persona: ResolvedPersona | undefined
  readonly instructions: string
}

const json = (entries: ReadonlyArray<readonly [string, unknown]>): string =>
  `{${entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
    .join(",")}}`

/** `models.json`: the resolved order, `priority` omitted when unset. */
export const modelsJson = (models: ReadonlyArray<ResolvedModel>): string =>
  `[${models
    .map((m) =>
      json([
        ["name", m.name],
        ["namespace", m.namespace],
        ["modelName", m.modelName],
        ["provider", m.provider],
        ["url", m.url],
        ["role", m.role],
        ["priority", m.priority],
      ]),
    )
    .join(",")}]`

/** `tools.json`: `toolRefs` order (enabled, not blocked). */
export const toolsJson = (tools: ReadonlyArray<ResolvedTool>): string =>
  `[${tools
    .map((t) =>
      json([
        ["name", t.name],
        ["namespace", t.namespace],
        ["type", t.type],
        ["deploymentMode", t.deploymentMode],
        ["url", t.url],
        ["requireApproval", t.requireApproval],
      ]),
    )
    .join(",")}]`

export const configMapData = (input: ConfigMapDataInput): Readonly<Record<string, string>> => {
  const { agent, persona } = input
  const data: Record<string, string> = {
    "agent.json": canonicalJson(agent.spec),
    name: agent.metadata.name ?? "",
    namespace: agent.metadata.namespace ?? "",
    mode: agent.spec.executionMode,
    "models.json": modelsJson(input.models),
    "tools.json": toolsJson(input.tools),
  }
  if (agent.spec.goal !== undefined && agent.spec.goal !== "") data.goal = agent.spec.goal
  if (input.instructions !== "") data.instructions = input.instructions
  if (persona !== undefined) {
    data["persona.json"] = personaJson(persona.effective)
    data.persona_name = persona.name
  }
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
