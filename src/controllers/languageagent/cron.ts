/**
 * What a Kubernetes CronJob accepts as `schedule` (languageagent.md §Validation): five cron fields
 * (minute, hour, day of month, month, day of week; `*`, `?` for the two day fields, lists, ranges,
 * steps, month and weekday names) or one of the macros `@yearly`, `@annually`, `@monthly`, `@weekly`,
 * `@daily`, `@midnight`, `@hourly`. A `TZ=` / `CRON_TZ=` prefix is rejected (Kubernetes ≥ 1.29 refuses
 * it). PURE. Returns `undefined` when valid, otherwise a short reason.
 *
 * Mirrors the standard parser Kubernetes uses (robfig/cron `ParseStandard`): bounds minute 0-59,
 * hour 0-23, day of month 1-31, month 1-12, day of week 0-6 (7 is not accepted).
 */

const MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"])

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

interface FieldSpec {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly names?: ReadonlyArray<string>
  readonly question?: boolean
}

const FIELDS: ReadonlyArray<FieldSpec> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31, question: true },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 6, names: DAYS, question: true },
]

const fieldValue = (text: string, field: FieldSpec): number | undefined => {
  if (/^[0-9]+$/u.test(text)) return Number(text)
  const i = field.names?.indexOf(text.toLowerCase()) ?? -1
  if (i < 0) return undefined
  return field.name === "month" ? i + 1 : i
}

const checkPart = (part: string, field: FieldSpec): string | undefined => {
  const [range, step, extra] = part.split("/")
  if (range === undefined || extra !== undefined || range === "") return `invalid ${field.name} "${part}"`
  if (step !== undefined && !/^[1-9][0-9]*$/u.test(step)) return `invalid step in ${field.name} "${part}"`
  if (range === "*" || (range === "?" && field.question === true)) return undefined
  const [lowText, highText, more] = range.split("-")
  if (lowText === undefined || more !== undefined) return `invalid ${field.name} "${part}"`
  const low = fieldValue(lowText, field)
  const high = highText === undefined ? low : fieldValue(highText, field)
  if (low === undefined || high === undefined) return `invalid ${field.name} "${part}"`
  if (low < field.min || high > field.max || low > high)
    return `${field.name} "${part}" is outside ${field.min}-${field.max}`
  return undefined
}

/** `undefined` when Kubernetes would accept `schedule`, else why not. */
export const cronProblem = (schedule: string): string | undefined => {
  const text = schedule.trim()
  if (/^(CRON_)?TZ=/u.test(text)) return "a TZ= or CRON_TZ= prefix is not supported"
  if (text.startsWith("@"))
    return MACROS.has(text)
      ? undefined
      : `unknown macro "${text}" (use @yearly, @monthly, @weekly, @daily or @hourly)`
  const fields = text.split(/\s+/u).filter((f) => f !== "")
  if (fields.length !== 5)
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`
  for (const [i, field] of FIELDS.entries()) {
    const value = fields[i] ?? ""
    for (const part of value.split(",")) {
      const problem = checkPart(part, field)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}
