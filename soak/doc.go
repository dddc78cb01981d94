// Package soak is picsoak's engine: it runs one cycle at a time of a Plan against a
// Target and returns what it measured as a Result with a verdict and findings.
//
// A Runner runs the four cycle kinds (sustained.go, burst.go, streams.go, capacity.go;
// the open-model loop they share is paced.go, which connects its workers before its
// clock starts). Every request is recorded by the worker that sent it, into HDR
// histograms it shares with a few other workers (two recorders per core, each behind
// a lock held for one record), and the recorders are merged once, at the cycle's
// end, where quantiles are computed. The
// Scheduler runs the cycles on their cron schedules, never two at once. Observers
// hear every request as it happens and every finished Result: the metrics exporter,
// the report writer, the log line and the status page are all observers, so a Result
// travels one way and nothing downstream reaches back into the engine.
//
// The engine never logs and never reads the environment (soak/config builds the
// Plan); it imports no Prometheus and makes no system call itself (soak/pace holds
// its timers and CPU readings, soak/httptarget speaks HTTP, soak/sample reads PIC's
// resources).
package soak
