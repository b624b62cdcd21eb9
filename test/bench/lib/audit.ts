// Write requests as the API server recorded them in its audit log (JSON lines, Metadata level).
import { existsSync, readFileSync } from "node:fs"

export interface AuditedWrite {
  readonly at: number
  readonly verb: string
  readonly userAgent: string
  readonly resource: string
  readonly subresource: string
  readonly namespace: string
  readonly code: number
}

const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"])

export const readAuditedWrites = (path: string): ReadonlyArray<AuditedWrite> => {
  if (!existsSync(path)) return []
  const out: Array<AuditedWrite> = []
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "") continue
    const e = JSON.parse(line) as {
      verb?: string
      userAgent?: string
      requestReceivedTimestamp?: string
      objectRef?: { resource?: string; subresource?: string; namespace?: string }
      responseStatus?: { code?: number }
    }
    if (e.verb === undefined || !WRITE_VERBS.has(e.verb)) continue
    out.push({
      at: Date.parse(e.requestReceivedTimestamp ?? ""),
      verb: e.verb,
      userAgent: e.userAgent ?? "",
      resource: e.objectRef?.resource ?? "",
      subresource: e.objectRef?.subresource ?? "",
      namespace: e.objectRef?.namespace ?? "",
      code: e.responseStatus?.code ?? 0,
    })
  }
  return out
}

export interface WriteCount {
  readonly total: number
  /** `resource[/subresource]` → count. */
  readonly byResource: Readonly<Record<string, number>>
  /** Writes the API server refused (4xx/5xx): conflicts, throttling, outages. */
  readonly failed: number
}

/** The operator's writes (user agent `langop…`) in [from, to). */
export const operatorWrites = (writes: ReadonlyArray<AuditedWrite>, from: number, to: number): WriteCount => {
  const byResource: Record<string, number> = {}
  let total = 0
  let failed = 0
  for (const w of writes) {
    if (w.at < from || w.at >= to || !w.userAgent.startsWith("langop")) continue
    total += 1
    if (w.code >= 400) failed += 1
    const key = w.subresource === "" ? w.resource : `${w.resource}/${w.subresource}`
    byResource[key] = (byResource[key] ?? 0) + 1
  }
  return { total, byResource, failed }
}
