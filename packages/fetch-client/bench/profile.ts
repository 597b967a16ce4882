/**
 * Runs one contender on one fixture many times, for `node --cpu-prof`. From packages/fetch-client:
 * `node --cpu-prof --cpu-prof-dir=/tmp/profiles --import tsx --conditions=ssekit-source bench/profile.ts token 64 ours`
 * (arguments: part of the fixture name, passes, `ours` or `reference`).
 */
import { createParser as createReferenceParser } from 'eventsource-parser'
import { createParser } from '../src/parse.ts'
import { fixtures } from './_fixtures.ts'

const [name = 'token', passes = '50', who = 'ours'] = process.argv.slice(2)
const [fixture] = fixtures(name)
if (fixture === undefined) throw new Error(`no fixture named like ${name}`)
let total = 0
const start = process.cpuUsage()
for (let pass = 0; pass < Number(passes); pass++) {
  if (who === 'ours') {
    const parser = createParser({
      maxLineBytes: 4 << 20,
      onEvent: (event) => {
        total += event.data.length
      },
    })
    for (const chunk of fixture.chunks) parser.feed(chunk)
  } else {
    const decoder = new TextDecoder()
    const parser = createReferenceParser({
      onEvent: (event) => {
        total += event.data.length
      },
    })
    for (const chunk of fixture.chunks) parser.feed(decoder.decode(chunk, { stream: true }))
  }
}
const { user, system } = process.cpuUsage(start)
console.log(
  `${fixture.name}, ${who}: ${((user + system) / 1000 / Number(passes)).toFixed(1)} ms per pass (${total})`,
)
