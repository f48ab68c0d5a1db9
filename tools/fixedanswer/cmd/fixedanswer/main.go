// Command fixedanswer serves HTTP/1.1 over TLS and answers every POST with one
// fixed allowed AdmissionReview, after reading the whole body: the least any
// webhook server must do. benchmarks/server.py measures it at the rate it
// measures Bulkhead at, so a run shows what the machine itself gives a server
// whose work per request is close to nothing.
//
// Usage: fixedanswer <host:port> <certificate file> <key file>
//
// With "--version" it prints a line and exits (the build script checks every
// binary it builds that way).
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const answer = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",` +
	`"response":{"uid":"fixed","allowed":true}}`

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("fixedanswer (bulkhead benchmarks)")
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: fixedanswer <host:port> <certificate file> <key file>")
		os.Exit(2)
	}
	body := []byte(answer)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "body not read", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	server := &http.Server{
		Addr:              os.Args[1],
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// HTTP/1.1 only, as Bulkhead offers: a non-nil empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if err := server.ListenAndServeTLS(os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "fixedanswer:", err)
		os.Exit(1)
	}
}
