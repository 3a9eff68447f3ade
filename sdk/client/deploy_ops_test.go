package client_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lambdad/lambdad/sdk/client"
)

// TestServed checks that only UnknownOperationException means "not
// served": a missing resource or a validation error still proves the server
// knows the operation.
func TestServed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{}`))
		case "/missing":
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"Type":"User","Message":"Function not found"}`))
		case "/invalid":
			w.Header().Set("X-Amzn-Errortype", "InvalidParameterValueException")
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.Header().Set("X-Amzn-Errortype", "UnknownOperationException")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"Type":"User","message":"Unknown operation"}`))
		}
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	for _, tc := range []struct {
		path string
		want bool
	}{{"/ok", true}, {"/missing", true}, {"/invalid", true}, {"/2099-01-01/nothing", false}} {
		got, err := c.Served(t.Context(), "GET", tc.path)
		if err != nil || got != tc.want {
			t.Errorf("Served(GET %s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
	srv.Close()
	if _, err := c.Served(t.Context(), "GET", "/ok"); err == nil {
		t.Error("Served on a closed server: want a transport error")
	}
}

// TestProvisionedConfigAbsent checks that a missing provisioned concurrency
// config is nil, not an error, while an unknown operation is an error.
func TestProvisionedConfigAbsent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Qualifier") == "served" {
			w.Header().Set("X-Amzn-Errortype", "ProvisionedConcurrencyConfigNotFoundException")
		} else {
			w.Header().Set("X-Amzn-Errortype", "UnknownOperationException")
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	if pc, err := c.GetProvisionedConcurrencyConfig(t.Context(), "f", "served"); pc != nil || err != nil {
		t.Errorf("GetProvisionedConcurrencyConfig(not found) = %v, %v; want nil, nil", pc, err)
	}
	if _, err := c.GetProvisionedConcurrencyConfig(t.Context(), "f", "other"); err == nil {
		t.Error("GetProvisionedConcurrencyConfig(unknown operation): want an error")
	}
}
