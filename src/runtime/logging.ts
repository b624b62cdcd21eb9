// Structured JSON logs: one flat JSON object per line on stdout, zap-style as controller-runtime
// writes them (`ts`, `level`, `msg`, then annotations and fields), so log pipelines that parse
// operator logs today parse ours.
//
// Guarantees: every annotation in scope (the controller adds `logger`, `controller`,
// `controllerGroup`, `controllerKind`, `namespace`, `name`, `key` and `reconcileID` around each
// reconcile) appears on every line, `logger` right before `msg` as zap orders it; a value that cannot be
// serialised (cycle, BigInt) is rendered as a string instead of breaking the line.
import { Cause, Layer, Logger, type LogLevel, References } from "effect"

export type LogLevelSetting = "trace" | "debug" | "info" | "warn" | "error"

const levelOf: Readonly<Record<LogLevelSetting, LogLevel.LogLevel>> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
}

const settingLevels: ReadonlyArray<LogLevelSetting> = ["trace", "debug", "info", "warn", "error"]

/**
 * A level as `LANGOP_LOG_LEVEL` or controller-runtime's `--zap-log-level` write it: a name, or a
 * logr verbosity (`1` = debug, `2` and more = trace). `undefined` when it is neither.
 */
export const parseLogLevel = (text: string): LogLevelSetting | undefined => {
  const t = text.trim().toLowerCase()
  if ((settingLevels as ReadonlyArray<string>).includes(t)) return t as LogLevelSetting
  if (!/^\d+$/u.test(t) || Number(t) < 1) return undefined
  return Number(t) === 1 ? "debug" : "trace"
}

const toJsonSafe = (value: unknown): unknown => {
  if (value instanceof Error) {
    return { ...Object.fromEntries(Object.entries(value)), name: value.name, message: value.message }
  }
  if (typeof value === "bigint") return value.toString()
  return value
}

const stringify = (line: Record<string, unknown>): string => {
  const seen = new WeakSet<object>()
  try {
    return JSON.stringify(line, (_k, v: unknown) => {
      const safe = toJsonSafe(v)
      if (typeof safe === "object" && safe !== null) {
        if (seen.has(safe)) return "[Circular]"
        seen.add(safe)
      }
      return safe
    })
  } catch {
    return JSON.stringify({
      ts: line.ts,
      level: line.level,
      msg: String(line.msg),
      error: "unserialisable log fields",
    })
  }
}

/** Builds the JSON line (exported for tests). */
export const formatLine = (options: Logger.Options<unknown>): string => {
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const line: Record<string, unknown> = {
    ts: options.date.toISOString(),
    level: options.logLevel.toLowerCase(),
    // zap writes the logger name before the message; an annotation of that name takes this slot.
    logger: undefined,
    msg: parts
      .filter((p) => typeof p !== "object" || p === null)
      .map(String)
      .join(" "),
  }
  for (const [k, v] of Object.entries(options.fiber.getRef(References.CurrentLogAnnotations))) line[k] = v
  for (const p of parts) {
    if (typeof p === "object" && p !== null && !Array.isArray(p)) Object.assign(line, p)
  }
  if (options.cause.reasons.length > 0) line.error = Cause.pretty(options.cause)
  if (line.logger === undefined) delete line.logger
  return stringify(line)
}

export const jsonLogger: Logger.Logger<unknown, void> = Logger.make((options) => {
  process.stdout.write(`${formatLine(options)}\n`)
})

/** Replaces the default logger with the JSON logger and sets the minimum level. */
export const loggingLayer = (level: LogLevelSetting): Layer.Layer<never> =>
  Layer.mergeAll(Logger.layer([jsonLogger]), Layer.succeed(References.MinimumLogLevel, levelOf[level]))
