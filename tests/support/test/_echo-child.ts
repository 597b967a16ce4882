import { createInterface } from 'node:readline'

// A child for startNodeChild's test: one line that is not JSON, `ready`, then every command back.
process.stdout.write('starting (not JSON)\n')
process.stdout.write(`${JSON.stringify({ type: 'ready', env: process.env['GREETING'] })}\n`)
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { type: string }
  if (command.type === 'exit') process.exit(3)
  process.stdout.write(`${JSON.stringify({ type: 'echo', command })}\n`)
})
