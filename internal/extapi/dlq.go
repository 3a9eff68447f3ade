package extapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/lambdad/lambdad/internal/async"
)

// DLQ is the built-in dead-letter queue of asynchronous invocations.
type DLQ interface {
	DLQList(ctx context.Context, function string) ([]async.DeadLetter, error)
	DLQGet(ctx context.Context, id string) (*async.DeadLetter, error)
	DLQRedrive(ctx context.Context, function string, ids []string) (int, error)
}

// RedriveRequest is the body of POST /lambdad/v1/dlq/redrive.
type RedriveRequest struct {
	Function string   `json:"function"`
	IDs      []string `json:"ids,omitempty"` // empty = every entry of Function
}

func dlqRoutes(mux *http.ServeMux, d Deps) {
	if d.DLQ == nil {
		return
	}
	mux.HandleFunc("GET /lambdad/v1/dlq", func(w http.ResponseWriter, r *http.Request) {
		list, err := d.DLQ.DLQList(r.Context(), r.URL.Query().Get("function"))
		if err != nil {
			writeErr(w, err)
			return
		}
		if list == nil {
			list = []async.DeadLetter{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"DeadLetters": list})
	})
	mux.HandleFunc("GET /lambdad/v1/dlq/{id}", func(w http.ResponseWriter, r *http.Request) {
		dl, err := d.DLQ.DLQGet(r.Context(), r.PathValue("id"))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, dl)
	})
	mux.HandleFunc("POST /lambdad/v1/dlq/redrive", func(w http.ResponseWriter, r *http.Request) {
		var req RedriveRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Function == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"Type": "User", "message": "body must be {\"function\": NAME, \"ids\": [...]}"})
			return
		}
		var ids []string
		if len(req.IDs) > 0 {
			ids = req.IDs
		}
		n, err := d.DLQ.DLQRedrive(r.Context(), req.Function, ids)
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"Redriven": n})
	})
}

func writeErr(w http.ResponseWriter, err error) {
	status, typ := http.StatusInternalServerError, "ServiceException"
	if errors.Is(err, async.ErrDeadLetterNotFound) {
		status, typ = http.StatusNotFound, "ResourceNotFoundException"
	}
	w.Header().Set("x-amzn-ErrorType", typ)
	writeJSON(w, status, map[string]string{"Type": "User", "message": err.Error()})
}
