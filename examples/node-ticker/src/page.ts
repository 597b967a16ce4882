/**
 * The page at `/`: the prices, live, through the browser's own `EventSource`, and the id of the
 * last event it saw (which the browser sends back as `Last-Event-ID` when it reconnects).
 */
export const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssekit node ticker</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 32rem; }
  table { border-collapse: collapse; width: 100%; }
  td, th { padding: .3rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
  td.price { font-variant-numeric: tabular-nums; text-align: right; }
  .up { color: #0a7d28; } .down { color: #b3261e; }
  #status, #last-id, #notice { color: #555; font-size: .9rem; }
</style>
</head>
<body>
<h1>Prices</h1>
<table>
  <thead><tr><th>Symbol</th><th style="text-align:right">Price</th></tr></thead>
  <tbody id="prices"></tbody>
</table>
<p id="status">connecting…</p>
<p>Last event id: <code id="last-id">none</code></p>
<p id="notice"></p>
<script type="module">
  const rows = new Map()
  const table = document.getElementById('prices')
  const status = document.getElementById('status')
  const lastId = document.getElementById('last-id')
  const notice = document.getElementById('notice')

  function show(symbol, price, change) {
    let row = rows.get(symbol)
    if (row === undefined) {
      row = document.createElement('tr')
      row.innerHTML = '<td></td><td class="price"></td>'
      row.cells[0].textContent = symbol
      rows.set(symbol, row)
      table.append(row)
    }
    row.cells[1].textContent = price.toFixed(2)
    row.cells[1].className = 'price ' + (change > 0 ? 'up' : change < 0 ? 'down' : '')
  }

  const source = new EventSource('/events')
  source.addEventListener('open', () => { status.textContent = 'live' })
  source.addEventListener('error', () => { status.textContent = 'reconnecting…' })
  source.addEventListener('snapshot', (event) => {
    for (const [symbol, price] of Object.entries(JSON.parse(event.data).prices)) show(symbol, price, 0)
    lastId.textContent = event.lastEventId
  })
  source.addEventListener('price', (event) => {
    const quote = JSON.parse(event.data)
    show(quote.symbol, quote.price, quote.change)
    lastId.textContent = event.lastEventId
  })
  source.addEventListener('reset', (event) => {
    notice.textContent = 'History could not be replayed (' + JSON.parse(event.data).reason + '); showing current prices.'
  })
</script>
</body>
</html>
`
