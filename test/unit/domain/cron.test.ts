import { describe, expect, it } from "vitest"
import { cronScheduleProblem, isGoDuration } from "../../../src/domain/cron.ts"
import { CRON_CORPUS } from "./cron-corpus.ts"

describe("cronScheduleProblem: what kube-apiserver accepts as a CronJob schedule", () => {
  it("has a corpus of at least 60 schedules, valid and invalid", () => {
    expect(CRON_CORPUS.length).toBeGreaterThanOrEqual(60)
    expect(CRON_CORPUS.filter((c) => c.accepted).length).toBeGreaterThan(20)
    expect(CRON_CORPUS.filter((c) => !c.accepted).length).toBeGreaterThan(20)
  })

  it.each(CRON_CORPUS.map((c) => [JSON.stringify(c.schedule), c.why, c] as const))("%s (%s)", (_, __, c) => {
    const problem = cronScheduleProblem(c.schedule)
    if (c.accepted) expect(problem).toBeUndefined()
    else expect(problem).toEqual(expect.any(String))
  })

  it.each([
    ["", "is empty"],
    ["0 0 * * 7", 'day of week "7" is outside 0-6'],
    ["0 0 * 13 *", 'month "13" is outside 1-12'],
    ["5-1 * * * *", 'range "5-1" starts after it ends'],
    ["*/0 * * * *", 'the step of "*/0" must be at least 1'],
    ["x * * * *", '"x" is not a minute'],
    ["0 0 * foo *", '"foo" is not a month'],
    ["* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"],
    ["1-2-3 * * * *", "\"1-2-3\" has more than one '-'"],
    ["@every 5d", '"5d" is not a duration (e.g. @every 1h30m; units ns, us, ms, s, m, h)'],
    [
      "@reboot",
      '"@reboot" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>',
    ],
    [
      "TZ=UTC 0 * * * *",
      "must not contain TZ: a TZ= or CRON_TZ= time zone prefix is refused by Kubernetes CronJobs",
    ],
  ])("names the problem of %j", (schedule, problem) => expect(cronScheduleProblem(schedule)).toBe(problem))
})

describe("isGoDuration (time.ParseDuration)", () => {
  it.each(["0", "+0", "-0", "1ns", "1us", "1\u03bcs", "2h45m", ".5s", "5.s", "1h1m1s1ms1us1ns", "2562047h"])(
    "accepts %s",
    (d) => expect(isGoDuration(d)).toBe(true),
  )
  it.each(["", "+", "-", "1", "h", "1H", "1 h", "1h ", "..5s", "2562048h", "9223372036854775808ns"])(
    "rejects %j",
    (d) => expect(isGoDuration(d)).toBe(false),
  )
  it("accepts -2^63 ns but not +2^63 ns", () => {
    expect(isGoDuration("-9223372036854775808ns")).toBe(true)
    expect(isGoDuration("9223372036854775807ns")).toBe(true)
  })
})
