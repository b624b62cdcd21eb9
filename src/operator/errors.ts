/**
 * The one failure `npm start` reports: a sentence that says what is wrong and what to do. Every startup
 * problem the operator can recognise (a port in use, no Go toolchain for the local control plane, an
 * unreachable cluster, missing CRDs or RBAC, a malformed setting) is turned into one of these; `main.ts`
 * prints it without a stack trace and exits non-zero.
 */
import { Schema } from "effect"

export class StartupError extends Schema.TaggedError<StartupError>()("StartupError", {
  /** One sentence: the problem and the remedy. */
  message: Schema.String,
}) {}

/** First line of an error's message (no stack). */
export const firstLine = (e: unknown): string => {
  const text =
    typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
      ? e.message
      : String(e)
  return text.split("\n")[0] ?? text
}

/** `SchemaError(Expected …\n  at ["LANGOP_X"])` → `invalid setting LANGOP_X: Expected …; …`. */
export const settingProblem = (message: string): string => {
  const variable = /at \["([^"]+)"\]/u.exec(message)?.[1]
  const expected = (message.split("\n")[0] ?? message).replace(/^\w*Error\(/u, "").replace(/\)$/u, "")
  return `invalid setting${variable === undefined ? "" : ` ${variable}`}: ${expected}; fix the environment variable (src/settings.ts lists every setting).`
}
