package api

import "net/http"

// routes registers the whole API surface. Every path is served with and
// without a trailing slash (old SDKs and CLIs send one).
func (s *Server) routes() {
	both := func(method, path, op string, h handlerFunc) {
		hf := s.handle(op, h)
		s.mux.Handle(method+" "+path, hf)
		s.mux.Handle(method+" "+path+"/{$}", hf)
	}
	both("POST", "/2015-03-31/functions", "CreateFunction", s.createFunction)
	both("GET", "/2015-03-31/functions", "ListFunctions", s.listFunctions)
	both("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", s.getFunction)
	both("DELETE", "/2015-03-31/functions/{FunctionName}", "DeleteFunction", s.deleteFunction)
	both("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", s.getFunctionConfiguration)
	both("PUT", "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration", s.updateFunctionConfiguration)
	both("PUT", "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode", s.updateFunctionCode)
	both("POST", "/2015-03-31/functions/{FunctionName}/invocations", "Invoke", s.invoke)
	both("GET", "/2016-08-19/account-settings", "GetAccountSettings", s.getAccountSettings)
	// Code.Location of GetFunction (lambdad's stand-in for a presigned S3 URL).
	both("GET", "/2015-03-31/functions/{FunctionName}/code-download", "GetFunctionCode", s.downloadCode)

	s.mux.Handle("/", s.handle("Unknown", func(http.ResponseWriter, *http.Request) error {
		return errUnknownOperation
	}))
}
