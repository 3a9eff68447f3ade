package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/lambda"
)

// checkResponse asserts the API never fails internally on client input and
// that every error is in AWS's wire format.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatal("response without x-amzn-RequestId")
	}
	if rec.Code >= 500 {
		t.Fatalf("status %d for client input: %s", rec.Code, rec.Body.String())
	}
	if rec.Code >= 400 {
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Header().Get("x-amzn-ErrorType") == "" || (body["message"] == "" && body["Message"] == "") {
			t.Fatalf("malformed error response %d %q: %s", rec.Code, rec.Header().Get("x-amzn-ErrorType"), rec.Body.String())
		}
	}
}

// FuzzCreateFunctionRequest feeds arbitrary bodies to CreateFunction and
// UpdateFunctionConfiguration through the real handler and store.
func FuzzCreateFunctionRequest(f *testing.F) {
	zipb := base64.StdEncoding.EncodeToString(handlerZip(f))
	f.Add(`{"FunctionName":"f","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r","Handler":"h.h","Code":{"ZipFile":"` + zipb + `"}}`)
	f.Add(`{"FunctionName":"g","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r","Handler":"h.h","Code":{"ZipFile":"` + zipb + `"},"Environment":{"Variables":{"A":"b","_x":"y"}},"MemorySize":99999,"Architectures":[]}`)
	f.Add(`{"FunctionName":null,"Timeout":"x"}`)
	f.Add(`{"Environment":{"Variables":[1]}}`)
	f.Add(``)
	s := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/2015-03-31/functions"},
			{"PUT", "/2015-03-31/functions/f/configuration"},
			{"PUT", "/2015-03-31/functions/f/code"},
		} {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(target.method, target.path, strings.NewReader(body)))
			checkResponse(t, rec)
		}
	})
}

// FuzzInvokeRequest fuzzes the Invoke request decoder (headers, qualifier,
// payload) in front of a scripted invoker.
func FuzzInvokeRequest(f *testing.F) {
	f.Add("f", "", "", "", "", `{"a":1}`)
	f.Add("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", "$LATEST", "Event", "Tail", base64.StdEncoding.EncodeToString([]byte(`{}`)), "")
	f.Add("f:1", "2", "DryRun", "None", "!!", "{")
	s := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, name, qualifier, invType, logType, clientContext, payload string) {
		u := "/2015-03-31/functions/" + url.PathEscape(name) + "/invocations"
		if qualifier != "" {
			u += "?Qualifier=" + url.QueryEscape(qualifier)
		}
		req := httptest.NewRequest("POST", "/", strings.NewReader(payload))
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = "", "", ""
		parsed, err := req.URL.Parse(u)
		if err != nil || name == "" {
			return
		}
		req.URL = parsed
		req.RequestURI = u
		for h, v := range map[string]string{"X-Amz-Invocation-Type": invType, "X-Amz-Log-Type": logType, "X-Amz-Client-Context": clientContext} {
			if v != "" && validHeaderValue(v) {
				req.Header.Set(h, v)
			}
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkResponse(t, rec)
		if rec.Code < 300 && rec.Code != 204 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invoke echoed invalid JSON: %q", rec.Body.String())
		}
	})
}

type echoInvoker struct{}

func (echoInvoker) Invoke(_ context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	if !json.Valid(req.Payload) {
		return nil, lambda.ServiceError("api passed invalid JSON to the invoker")
	}
	return &lambda.InvokeResult{StatusCode: 200, Payload: req.Payload, ExecutedVersion: lambda.VersionLatest}, nil
}

func startFuzzServer(f *testing.F) http.Handler {
	s := &server{t: f, dir: f.TempDir(), gate: newGate(), invoker: echoInvoker{}}
	s.start()
	f.Cleanup(s.stop)
	s.gate.open()
	return s.srv.Config.Handler
}

func validHeaderValue(v string) bool {
	for _, c := range v {
		if c < ' ' || c == 0x7f || c > 0x7e {
			return false
		}
	}
	return true
}
