// A real Node HTTP server for soak/httptarget's differential suite
// (realservers_test.go). It prints its port, then serves until killed:
//   /events  reads the body and answers "ok"
//   /hints   answers 103 Early Hints first (writeEarlyHints), then "ok"
// Idle connections close after 0.5 s (Node's default is 5 s) and every connection
// after 3 requests, the third answered with Connection: close.
"use strict";
const http = require("http");

const server = http.createServer((req, res) => {
  if (req.url === "/hints") {
    res.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
  }
  req.resume();
  req.on("end", () => {
    res.end(req.url === "/events" || req.url === "/hints" ? "ok" : "");
  });
});
server.keepAliveTimeout = 500;
server.maxRequestsPerSocket = 3;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(server.address().port + "\n");
});
