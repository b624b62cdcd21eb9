/**
 * LanguageModel specs for the contract tests, rendered with the operator's pure renderer.
 */
import { spawn } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { LanguageModelSpec } from "../../../src/api/languagemodel.ts"
import {
  type RenderedConfig,
  type RenderInput,
  type ResolvedFallback,
  renderLiteLLMConfig,
} from "../../../src/controllers/languagemodel/litellm.ts"

export const NAMESPACE = "contract"
export const CLUSTER_DOMAIN = "cluster.local"

export const decodeSpec = (spec: unknown): LanguageModelSpec =>
  Schema.decodeUnknownSync(LanguageModelSpec)(spec)

export const render = (
  name: string,
  spec: unknown,
  extra: Partial<Omit<RenderInput, "name" | "spec">> = {},
): RenderedConfig =>
  renderLiteLLMConfig({
    name,
    namespace: NAMESPACE,
    clusterDomain: CLUSTER_DOMAIN,
    spec: decodeSpec(spec),
    fallbacks: [] as ReadonlyArray<ResolvedFallback>,
    sharedRedis: undefined,
    otlpEndpoint: undefined,
    ...extra,
  })

/** The in-cluster URL the renderer gives a fallback proxy (the one thing a test must re-point). */
export const fallbackUrl = (modelRef: string) =>
  `http://${modelRef}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}:8000/v1`

/**
 * Re-points fallback deployments at locally running proxies: cluster DNS does not exist here. Exactly
 * one occurrence per fallback must be replaced, so nothing else in the rendered text can change.
 */
export const pointFallbacks = (text: string, urls: Readonly<Record<string, string>>): string =>
  Object.entries(urls).reduce((out, [ref, url]) => {
    const quoted = JSON.stringify(fallbackUrl(ref))
    if (out.split(quoted).length !== 2) throw new Error(`expected exactly one ${quoted} in the config`)
    return out.replace(quoted, JSON.stringify(`${url}/v1`))
  }, text)

export interface Introspection {
  readonly version: string
  readonly results: ReadonlyArray<{ readonly unknown: ReadonlyArray<string>; readonly config: unknown }>
}

const INTROSPECT = fileURLToPath(new URL("./introspect.py", import.meta.url))

/** Runs introspect.py once (one LiteLLM import) with the contract venv's python over `texts`. */
export const introspect = async (
  python: string,
  texts: ReadonlyArray<string>,
  userKeys: ReadonlyArray<string> = [],
): Promise<Introspection> => {
  const dir = await mkdtemp(join(tmpdir(), "langop-introspect-"))
  const files = texts.map((_, i) => join(dir, `config-${i}.yaml`))
  await Promise.all(texts.map((t, i) => writeFile(files[i] ?? "", t)))
  try {
    return await new Promise<Introspection>((resolve, reject) => {
      const child = spawn(python, [INTROSPECT, ...files], {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          LITELLM_LOCAL_MODEL_COST_MAP: "True",
          INTROSPECT_USER_KEYS: userKeys.join(","),
        },
      })
      let out = ""
      let err = ""
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString()
      })
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString()
      })
      child.on("close", (code) => {
        if (code !== 0) return reject(new Error(`introspect.py exited ${code}: ${err.slice(-4000)}`))
        const line = out.trim().split("\n").pop() ?? ""
        resolve(JSON.parse(line) as Introspection)
      })
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The rendered value as JSON would carry it (undefined members dropped), for comparing with PyYAML's. */
export const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))
