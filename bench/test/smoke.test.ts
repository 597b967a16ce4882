// A tiny run of every workload: proves each contender is wired right and produces verified
// results (events counted, bytes checked), so `npm run bench` cannot silently measure nothing.
// Speed is never asserted here.
import { describe, expect, it } from 'vitest'
import type { Section } from '../src/_report.ts'
import { runBundleSize } from '../src/bundle-size.bench.ts'
import { runEncode } from '../src/encode.bench.ts'
import { runFanout } from '../src/fanout.bench.ts'
import { runLoopback } from '../src/loopback.bench.ts'
import { runParse } from '../src/parse.bench.ts'
import { runSlowConsumer } from '../src/slow-consumer.bench.ts'

const options = { scale: 'smoke', log: () => {} } as const

/** Every contender measured, except peers whose output is wrong (a finding, shown in the table). */
function unexpectedGaps(section: Section) {
  return section.notMeasured.filter(
    (entry) => entry.name.includes('ssekit') || !entry.reason.startsWith('wrong result'),
  )
}

describe('bench smoke', () => {
  it('parse: every parser yields the fixture events', async () => {
    const section = await runParse(options)
    expect(unexpectedGaps(section)).toEqual([])
    expect(section.checks.length).toBe(10)
    expect(section.checks.every((check) => check.pass !== undefined)).toBe(true)
  }, 60_000)

  it('encode: every encoder produces the expected bytes', async () => {
    const section = await runEncode(options)
    expect(unexpectedGaps(section)).toEqual([])
    expect(section.checks.every((check) => check.pass !== undefined)).toBe(true)
  }, 60_000)

  it('loopback: every server delivers exactly the requested events', async () => {
    const section = await runLoopback(options)
    expect(unexpectedGaps(section)).toEqual([])
    expect(section.blocks.join('\n')).toContain('ssekit @ssekit/node sendEventStream')
  }, 60_000)

  it('fan-out: every server holds the idle streams and reaches all of them', async () => {
    const section = await runFanout(options)
    expect(unexpectedGaps(section)).toEqual([])
  }, 90_000)

  it('slow consumer: every server is measured', async () => {
    const section = await runSlowConsumer(options)
    expect(unexpectedGaps(section)).toEqual([])
  }, 90_000)

  it('bundle sizes: every entry bundles', async () => {
    const section = await runBundleSize(options)
    expect(section.notMeasured).toEqual([])
  }, 60_000)
})
