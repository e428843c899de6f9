// Loaded by start.sh (node --require) before dynalite's CLI. A client that
// goes away in the middle of a request — a controller process killed with
// SIGKILL, a Go context cancelled while the body is on the wire — makes
// dynalite's request handler throw "aborted" (ECONNRESET), which would end
// the server and fail every DynamoDB test after it. Log it and serve on;
// any other uncaught error still ends the server.
'use strict'
process.on('uncaughtException', function (err) {
  if (err && err.code === 'ECONNRESET') {
    console.error('dynalite: a client went away in the middle of a request (' + err.message + '); serving on')
    return
  }
  console.error(err)
  process.exit(1)
})
