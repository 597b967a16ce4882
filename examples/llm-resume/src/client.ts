// Streams an answer with a POST; when the connection drops, resumes it with a GET.
import { fetchEventStream } from '@ssekit/fetch-client'

const base = process.env['URL'] ?? 'http://127.0.0.1:3005'
let chatId = ''
const stream = fetchEventStream<{ token: { index: number; text: string }; done: null }>(
  `${base}/chat?dropAfterMs=1500`,
  {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'What if my connection drops?' }),
    parse: 'json',
    onOpen: (response) => {
      chatId ||= response.headers.get('x-chat-id') ?? ''
    },
    // Never re-sends the POST: continues with a GET that carries Last-Event-ID.
    resume: ({ lastEventId }) => {
      console.log(`\n[connection lost after id ${lastEventId}: resuming]`)
      return `${base}/chat/${chatId}`
    },
  },
)
for await (const event of stream) {
  if (event.type === 'token') process.stdout.write(event.data.text)
  else break
}
console.log('\n[done]')
