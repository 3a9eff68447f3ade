package runtimeapi

import "net/http"

// routes lists the whole surface the runtime inside an environment can reach.
// Unknown paths answer ServeMux's 404 "404 page not found", known paths with
// another method 405. The Extensions API (2020-01-01) is not served yet: its
// paths answer 404 with an empty body, as RIE does with extensions disabled.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.adapt(s.handleResponse))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.adapt(s.handleError))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.adapt(s.handleInitError))
	// Telemetry and Logs APIs are not implemented; answer like RIE so that
	// extensions degrade gracefully.
	mux.HandleFunc("PUT /2022-07-01/telemetry", s.adapt(notSupported(errTelemetryNotSupported, msgTelemetryNotSupported)))
	mux.HandleFunc("PUT /2020-08-15/logs", s.adapt(notSupported(errLogsNotSupported, msgLogsNotSupported)))
	mux.HandleFunc("/2020-01-01/extension/", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	return mux
}
