/**
 * Cron expressions as a Kubernetes CronJob accepts them (robfig/cron v3 `ParseStandard`, which the
 * API server uses), restricted as languageagent.md §Validation says: five fields, or one of the
 * `@yearly`-style macros; `@every` and a `TZ=` / `CRON_TZ=` prefix are rejected (Kubernetes ≥ 1.29
 * refuses time zones in `schedule`, and no `timeZone` field is exposed).
 *
 * Field syntax (as robfig): comma-separated ranges, each `*` or `?` (any), `n`, `n-m`, optionally
 * `/step` (step ≥ 1; `n/step` runs to the field's maximum). Months and weekdays also take the
 * three-letter English names, case-insensitive. Bounds: minute 0-59, hour 0-23, day of month 1-31,
 * month 1-12, day of week 0-6.
 */

export const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

interface FieldSpec {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly names?: ReadonlyArray<string>
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

const FIELDS: ReadonlyArray<FieldSpec> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 6, names: DAYS },
]

const fieldValue = (text: string, field: FieldSpec): number | undefined => {
  if (/^[0-9]+$/u.test(text)) return Number(text)
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1
  if (index === -1) return undefined
  // Month names count from 1, weekday names from 0 (Sunday).
  return field.names === MONTHS ? index + 1 : index
}

/** Why one range of a field is invalid, or undefined. */
const rangeProblem = (range: string, field: FieldSpec): string | undefined => {
  const [span = "", step, extra] = range.split("/")
  if (extra !== undefined) return `"${range}" has more than one step`
  if (step !== undefined && !/^[0-9]+$/u.test(step)) return `step "${step}" is not a number`
  if (step !== undefined && Number(step) === 0) return `step of "${range}" must be at least 1`
  if (span === "*" || span === "?") return undefined
  const [lowText = "", highText, more] = span.split("-")
  if (more !== undefined) return `"${span}" is not a range`
  const low = fieldValue(lowText, field)
  if (low === undefined) return `"${lowText}" is not a ${field.name}`
  const high = highText === undefined ? (step === undefined ? low : field.max) : fieldValue(highText, field)
  if (high === undefined) return `"${highText ?? ""}" is not a ${field.name}`
  if (low < field.min || high > field.max)
    return `${field.name} "${span}" is outside ${field.min}-${field.max}`
  if (low > high) return `range "${span}" starts after it ends`
  return undefined
}

/**
 * Why `expression` is not a schedule a CronJob accepts (a sentence), or `undefined` when it is
 * valid. The caller decides what an empty schedule means.
 */
export const cronProblem = (expression: string): string | undefined => {
  const trimmed = expression.trim()
  if (/^(CRON_)?TZ=/u.test(trimmed))
    return "a TZ= or CRON_TZ= prefix is not allowed (Kubernetes rejects time zones in schedule)"
  if (trimmed.startsWith("@")) {
    return CRON_MACROS.includes(trimmed) ? undefined : `"${trimmed}" is not one of ${CRON_MACROS.join(", ")}`
  }
  const fields = trimmed.split(/\s+/u).filter((f) => f !== "")
  if (fields.length !== FIELDS.length)
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`
  for (const [i, text] of fields.entries()) {
    const field = FIELDS[i]
    if (field === undefined) continue
    for (const range of text.split(",")) {
      const problem = rangeProblem(range, field)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}
