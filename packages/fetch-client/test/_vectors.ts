/**
 * Parser vectors: the web-platform-tests `eventsource/format-*` and `event-data` bodies (as served
 * by WPT's `resources/message.py`, i.e. message + "\n\n" + "\n" unless `newline=none`), plus the
 * spec cases WPT misses. `bodies` are successive connections of one source: the parser is `reset()`
 * between them and the last event id must persist.
 */

export interface ExpectedEvent {
  type: string
  data: string
  lastEventId: string
  id?: string | undefined
}

export interface ParserVector {
  name: string
  bodies: Uint8Array[]
  events: ExpectedEvent[]
  retries?: number[] | undefined
  ids?: string[] | undefined
  comments?: string[] | undefined
}

const encoder = new TextEncoder()
const BOM = [0xef, 0xbb, 0xbf]

export function bytes(...parts: (string | number[])[]): Uint8Array {
  const arrays = parts.map((part) =>
    typeof part === 'string' ? encoder.encode(part) : Uint8Array.from(part),
  )
  const out = new Uint8Array(arrays.reduce((sum, array) => sum + array.length, 0))
  let offset = 0
  for (const array of arrays) {
    out.set(array, offset)
    offset += array.length
  }
  return out
}

/** What WPT's message.py sends for `message`. */
function served(message: string | (string | number[])[], newline = true): Uint8Array {
  const parts = typeof message === 'string' ? [message] : message
  return bytes(...parts, newline ? '\n\n\n' : '\n')
}

const message = (data: string, lastEventId = '', id?: string): ExpectedEvent => ({
  type: 'message',
  data,
  lastEventId,
  id,
})

const x2048 = 'x'.repeat(2048)

export const wptVectors: ParserVector[] = [
  {
    name: 'format-bom',
    bodies: [served([BOM, 'data:1\n\n', BOM, 'data:2\n\ndata:3'])],
    events: [message('1'), message('3')],
  },
  {
    name: 'format-bom-2',
    bodies: [served([BOM, BOM, 'data:1\n\ndata:2\n\ndata:3'])],
    events: [message('2'), message('3')],
  },
  {
    name: 'format-comments',
    bodies: [
      served(`data:1\r:\0\n:\r\ndata:2\n:${x2048}\rdata:3\n:data:fail\r:${x2048}\ndata:4\n`, false),
    ],
    events: [message('1\n2\n3\n4')],
    comments: ['\0', '', x2048, 'data:fail', x2048],
  },
  {
    name: 'format-data-before-final-empty-line (two connections)',
    bodies: [
      served('retry:1000\ndata:test1\n\nid:test\ndata:test2', false),
      served('retry:1000\ndata:test1\n\nid:test\ndata:test2', false),
    ],
    events: [message('test1'), message('test1')],
    retries: [1000, 1000],
    ids: [],
  },
  {
    name: 'format-field-data',
    bodies: [served('data:\n\ndata\ndata\n\ndata:test')],
    events: [message(''), message('\n'), message('test')],
  },
  {
    name: 'format-field-event-empty',
    bodies: [served('event: \ndata:data')],
    events: [message('data')],
  },
  {
    name: 'format-field-event',
    bodies: [served('event:test\ndata:x\n\ndata:x')],
    events: [{ type: 'test', data: 'x', lastEventId: '' }, message('x')],
  },
  {
    name: 'format-field-id (Last-Event-ID over a reconnect)',
    bodies: [bytes('id: …\nretry: 200\ndata: hello\n\n'), bytes('data: …\n\n')],
    events: [message('hello', '…', '…'), message('…', '…')],
    retries: [200],
    ids: ['…'],
  },
  {
    name: 'format-field-id-2 (three connections)',
    bodies: [
      bytes('id: …\nretry: 200\ndata: hello\n\n'),
      bytes('data: …\n\n'),
      bytes('data: …\n\n'),
    ],
    events: [message('hello', '…', '…'), message('…', '…'), message('…', '…')],
  },
  {
    name: 'format-field-id-3 lastEventId persists',
    bodies: [bytes('id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n')],
    events: [message('1', '1', '1'), message('2', '1'), message('3', '2', '2'), message('4', '2')],
    ids: ['1', '2'],
  },
  {
    name: 'format-field-id-3 lastEventId resets',
    bodies: [bytes('id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n')],
    events: [message('1', '1', '1'), message('2', '', ''), message('3', '')],
    ids: ['1', ''],
  },
  {
    name: 'format-field-id-3 lastEventId resets (id without colon)',
    bodies: [bytes('id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n')],
    events: [message('1', '1', '1'), message('2', '', ''), message('3', '')],
  },
  ...['\0\0', 'x\0', '\0x', 'x\0x', ' \0'].map(
    (value): ParserVector => ({
      name: `format-field-id-null ${JSON.stringify(value)} (two connections)`,
      bodies: [
        bytes(`id: ${value}\nretry: 200\ndata: hello\n\n`),
        bytes(`id: ${value}\nretry: 200\ndata: hello\n\n`),
      ],
      events: [message('hello'), message('hello')],
      retries: [200, 200],
      ids: [],
    }),
  ),
  {
    name: 'format-field-parsing',
    bodies: [
      served(
        'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n',
        false,
      ),
    ],
    events: [message('\0\n 2\n1\n3\n\n4')],
  },
  {
    name: 'format-field-retry-bogus',
    bodies: [served('retry:3000\nretry:1000x\ndata:x')],
    events: [message('x')],
    retries: [3000],
  },
  {
    name: 'format-field-retry-empty',
    bodies: [served('retry\ndata:test')],
    events: [message('test')],
    retries: [],
  },
  {
    name: 'format-field-retry',
    bodies: [served('retry:03000\ndata:x')],
    events: [message('x')],
    retries: [3000],
  },
  {
    name: 'format-field-unknown',
    bodies: [
      served('data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test'),
    ],
    events: [message('test\n\ntest')],
    comments: ['thisisacommentyay'],
  },
  {
    name: 'format-leading-space',
    bodies: [served('data:\ttest\rdata: \ndata:test')],
    events: [message('\ttest\n\ntest')],
  },
  {
    name: 'format-newlines',
    bodies: [served('data:test\r\ndata\ndata:test\r\n\r', false)],
    events: [message('test\n\ntest')],
  },
  {
    name: 'format-null-character',
    bodies: [served('data:\0\n\n')],
    events: [message('\0')],
  },
  {
    name: 'format-utf-8 (charset ignored: always UTF-8)',
    bodies: [served('data:ok…')],
    events: [message('ok…')],
  },
  {
    name: 'event-data (message2 loop body)',
    bodies: [
      bytes(
        'data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\ndata:end\n\n',
      ),
    ],
    events: [message('msg\nmsg'), message(''), message('end')],
  },
  {
    name: 'eventsource-from-readable-stream CR / LF / CRLF',
    bodies: [bytes('data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n')],
    events: [message('cr'), message('lf'), message('crlf')],
  },
  {
    name: 'eventsource-from-readable-stream id and retry',
    bodies: [bytes('id: 42\ndata: a\n\nretry: 5000\ndata: b\n\nretry: bogus\ndata: c\n\n')],
    events: [message('a', '42', '42'), message('b', '42'), message('c', '42')],
    retries: [5000],
  },
]

export const specVectors: ParserVector[] = [
  {
    name: 'only one leading space is stripped',
    bodies: [bytes('data:  x\ndata:\t y\n\n')],
    events: [message(' x\n\t y')],
  },
  {
    name: 'an id-only block sets lastEventId and fires onId without dispatching',
    bodies: [bytes('id: 7\n\ndata: a\n\n')],
    events: [message('a', '7')],
    ids: ['7'],
  },
  {
    name: 'an event-only block does not dispatch, and its type does not leak',
    bodies: [bytes('event: ping\n\ndata: a\n\n')],
    events: [message('a')],
  },
  {
    name: 'the unterminated last event is discarded',
    bodies: [bytes('data: a\n\ndata: b\n')],
    events: [message('a')],
  },
  {
    name: 'field names are case-sensitive and not trimmed',
    bodies: [bytes('Data: x\n data: y\ndata : z\nDATA: w\nid : 9\ndata: ok\n\n')],
    events: [message('ok')],
  },
  {
    name: '4-byte UTF-8 (emoji)',
    bodies: [bytes('data: 😀 é ह 𝄞\n\n')],
    events: [message('😀 é ह 𝄞')],
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    bodies: [bytes('data: ', [0xff, 0xfe, 0xc3], 'x', [0xe2, 0x82], '\n\n')],
    events: [message('\ufffd\ufffd\ufffdx\ufffd')],
  },
  {
    name: 'a BOM not at the start of the stream is kept in data',
    bodies: [bytes('data: a\n\ndata: ', BOM, 'b\n\n')],
    events: [message('a'), message('\ufeffb')],
  },
  {
    name: 'a leading BOM is stripped on every new connection',
    bodies: [bytes(BOM, 'data: a\n\n'), bytes(BOM, 'data: b\n\n')],
    events: [message('a'), message('b')],
  },
  {
    name: 'retry with a sign, space, exponent or trailing text is ignored',
    bodies: [
      bytes('retry: +1\nretry:  2\nretry: 1e3\nretry: -5\nretry: 12 \nretry: 0x1\ndata: x\n\n'),
    ],
    events: [message('x')],
    retries: [],
  },
  {
    name: 'retry 0 and leading zeros are valid',
    bodies: [bytes('retry: 0\nretry:007\ndata: x\n\n')],
    events: [message('x')],
    retries: [0, 7],
  },
  {
    name: 'a colon in the value is kept',
    bodies: [bytes('data: a:b: c\nevent:x:y\n\n')],
    events: [{ type: 'x:y', data: 'a:b: c', lastEventId: '' }],
  },
  {
    name: 'LF then CRLF makes a blank line',
    bodies: [bytes('data: a\n\r\ndata: b\r\n\n')],
    events: [message('a'), message('b')],
  },
  {
    name: 'CR then CRLF makes a blank line',
    bodies: [bytes('data: a\r\r\ndata: b\r\n\r')],
    events: [message('a'), message('b')],
  },
  {
    name: 'a JSON [DONE] sentinel passes through as data',
    bodies: [bytes('data: {"a":1}\n\ndata: [DONE]\n\n')],
    events: [message('{"a":1}'), message('[DONE]')],
  },
  {
    name: 'an id with NUL is ignored, an earlier valid id in the same block counts',
    bodies: [bytes('id: a\nid: b\0\ndata: x\n\n')],
    events: [message('x', 'a', 'a')],
    ids: ['a'],
  },
  {
    name: 'the last id in a block wins; an id in a discarded block does not count',
    bodies: [bytes('id: a\nid: b\ndata: x\n\nid: c\ndata: y\n')],
    events: [message('x', 'b', 'b')],
    ids: ['b'],
  },
  {
    name: 'comments: one leading space stripped, empty comment, comment between data lines',
    bodies: [bytes(': hi\n:x\n:  two\n:\ndata: a\n: mid\ndata: b\n\n')],
    events: [message('a\nb')],
    comments: ['hi', 'x', ' two', '', 'mid'],
  },
  {
    name: 'event, data and id without colon or value',
    bodies: [bytes('event\ndata\nid\n\n')],
    events: [message('', '', '')],
    ids: [''],
  },
  {
    name: 'an empty body and a body of blank lines dispatch nothing',
    bodies: [bytes(''), bytes('\n\n\r\n\r\r')],
    events: [],
  },
  {
    name: 'an empty event field resets the type set earlier in the block (undici 7.30 keeps it)',
    bodies: [bytes('event: a\nevent\ndata: 1\n\nevent: b\nevent:\ndata: 2\n\n')],
    events: [message('1'), message('2')],
  },
  {
    name: 'a later event type is kept per event only',
    bodies: [bytes('event: a\nevent: b\ndata: 1\n\ndata: 2\n\n')],
    events: [{ type: 'b', data: '1', lastEventId: '' }, message('2')],
  },
  {
    name: 'a line of only spaces is a field named " ", not a blank line',
    bodies: [bytes('data: a\n \ndata: b\r  \r\n\n')],
    events: [message('a\nb')],
  },
  {
    name: 'the event type is kept as sent: inner and trailing spaces, a second leading space, NUL, case',
    bodies: [
      bytes(
        'event: a b \ndata: 1\n\nevent:  c\ndata: 2\n\nevent: d\0e\ndata: 3\n\nevent: Message\ndata: 4\n\n',
      ),
    ],
    events: [
      { type: 'a b ', data: '1', lastEventId: '' },
      { type: ' c', data: '2', lastEventId: '' },
      { type: 'd\0e', data: '3', lastEventId: '' },
      { type: 'Message', data: '4', lastEventId: '' },
    ],
  },
  {
    name: 'the id is kept as sent: a second leading space, a colon',
    bodies: [bytes('id:  1\ndata: a\n\nid: a:b\ndata: b\n\n')],
    events: [message('a', ' 1', ' 1'), message('b', 'a:b', 'a:b')],
    ids: [' 1', 'a:b'],
  },
  {
    name: 'event and id after data in the same block apply to that event',
    bodies: [bytes('data: x\nevent: e\nid: 5\n\n')],
    events: [{ type: 'e', data: 'x', lastEventId: '5', id: '5' }],
    ids: ['5'],
  },
  {
    name: 'U+2028, U+2029, U+0085, VT and FF are not line ends',
    bodies: [bytes('data: a\u2028b\u2029c\u0085d\v\f\n\n')],
    events: [message('a\u2028b\u2029c\u0085d\v\f')],
  },
  {
    name: 'a CR at the end of the stream ends a line but is not a blank line',
    bodies: [bytes('data: a\n\ndata: b\r')],
    events: [message('a')],
  },
  {
    name: 'retry acts at its own line, even in an event never dispatched; an unterminated one does not',
    bodies: [bytes('data: x\nretry: 7\n'), bytes('retry: 8')],
    events: [],
    retries: [7],
  },
  {
    name: 'retry with an empty value, a tab before the digits, or non-ASCII digits is ignored',
    bodies: [
      bytes(
        'retry:\nretry: \nretry:\t5\nretry: \u0663\nretry: \uff11\nretry: 1\u0663\ndata: x\n\n',
      ),
    ],
    events: [message('x')],
    retries: [],
  },
  {
    name: 'retry past 2^31 and 2^64 is still all digits',
    bodies: [bytes('retry: 2147483648\nretry: 18446744073709551616\ndata: x\n\n')],
    events: [message('x')],
    retries: [2_147_483_648, Number('18446744073709551616')],
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD per bad byte; a bad byte before a field name spoils the name',
    bodies: [
      bytes(
        'data: ',
        [0xed, 0xa0, 0x80],
        '|',
        [0xc0, 0xaf],
        '\n\n',
        [0xe2],
        'data: lost\ndata: y',
        [0xf0, 0x9f, 0x98],
        '\n\n',
      ),
    ],
    events: [message('\ufffd\ufffd\ufffd|\ufffd\ufffd'), message('y\ufffd')],
  },
  {
    name: 'after a reconnect only the first of two BOMs is stripped, and a BOM may precede a line end',
    bodies: [
      bytes('data: a\n\n'),
      bytes(BOM, BOM, 'data: b\n\ndata: c\n\n'),
      bytes(BOM, '\r\ndata: d\r\n\r\n'),
    ],
    events: [message('a'), message('c'), message('d')],
  },
  {
    name: 'a reconnect drops an id not yet dispatched; an id-only block then resets lastEventId',
    bodies: [bytes('id: 1\ndata: a\n\nid: 2\n'), bytes('data: b\n\nid\n\ndata: c\n\n')],
    events: [message('a', '1', '1'), message('b', '1'), message('c', '')],
    ids: ['1', ''],
  },
]
