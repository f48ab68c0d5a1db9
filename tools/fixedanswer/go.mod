// A module of the project's own: a TLS server that answers every POST with the
// same allowed AdmissionReview and does nothing else. benchmarks/server.py runs
// it beside Bulkhead as the machine's floor for latency at a fixed rate. It
// needs only the standard library.

module bulkhead.dev/tools/fixedanswer

go 1.25.0
