// Package extapi serves lambdad's own HTTP endpoints beside the Lambda API,
// under /lambdad/v1/: function logs (range and follow, as NDJSON), the
// server's capabilities, and (once async lands) the dead-letter queue. The
// lambdad CLI reaches them through sdk/client.
//
// It imports internal/logs, internal/logstore and internal/async (types).
package extapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/logstore"
)

// LogReader reads function logs.
type LogReader interface {
	Read(ctx context.Context, q logstore.Query, fn func(logs.Record) error) error
}

// Deps are the handler's dependencies.
type Deps struct {
	Logs         LogReader
	DLQ          DLQ // nil disables the DLQ endpoints
	Capabilities Capabilities
	Logger       *slog.Logger
}

// Capabilities tell clients (lambdad deploy) what this server supports.
type Capabilities struct {
	Version   string   `json:"version"`
	Isolation string   `json:"isolation"`
	Runtimes  []string `json:"runtimes"`
	Features  []string `json:"features"`
	Events    []string `json:"events"`
}

// LogEvent is one record in the NDJSON logs stream.
type LogEvent struct {
	Time      time.Time `json:"time"`
	LogGroup  string    `json:"logGroup"`
	LogStream string    `json:"logStream"`
	Message   string    `json:"message"`
}

// New returns the handler for /lambdad/v1/.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lambdad/v1/capabilities", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.Capabilities)
	})
	mux.HandleFunc("GET /lambdad/v1/logs", func(w http.ResponseWriter, r *http.Request) { serveLogs(d, w, r) })
	dlqRoutes(mux, d)
	return mux
}

// serveLogs streams log records as NDJSON. Query: group (repeatable; or
// function=NAME for /aws/lambda/NAME), since (RFC 3339 or a duration like
// 10m), follow=true.
func serveLogs(d Deps, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var lq logstore.Query
	for _, f := range q["function"] {
		lq.Groups = append(lq.Groups, logs.GroupName(f))
	}
	lq.Groups = append(lq.Groups, q["group"]...)
	if s := q.Get("since"); s != "" {
		if dur, err := time.ParseDuration(s); err == nil {
			lq.Since = time.Now().Add(-dur)
		} else if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			lq.Since = t
		} else {
			writeJSON(w, http.StatusBadRequest, map[string]string{"Type": "User", "message": "since: want a duration (10m) or an RFC 3339 time"})
			return
		}
	}
	lq.Follow = strings.EqualFold(q.Get("follow"), "true") || q.Get("follow") == "1"
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if lq.Follow && flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	err := d.Logs.Read(r.Context(), lq, func(rec logs.Record) error {
		if err := enc.Encode(LogEvent{Time: rec.Time.UTC(), LogGroup: rec.Group, LogStream: rec.Stream, Message: string(rec.Message)}); err != nil {
			return err
		}
		if lq.Follow && flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		d.Logger.Warn("read logs", "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
