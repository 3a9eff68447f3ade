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

	// Versions and aliases.
	both("POST", "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion", s.publishVersion)
	both("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction", s.listVersionsByFunction)
	both("POST", "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias", s.createAlias)
	both("GET", "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases", s.listAliases)
	both("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias", s.getAlias)
	both("PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias", s.updateAlias)
	both("DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias", s.deleteAlias)

	// Layers (GET /layers is also GetLayerVersionByArn with ?find=LayerVersion).
	both("GET", "/2018-10-31/layers", "ListLayers", s.listLayers)
	both("POST", "/2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion", s.publishLayerVersion)
	both("GET", "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions", s.listLayerVersions)
	both("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion", s.getLayerVersion)
	both("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "DeleteLayerVersion", s.deleteLayerVersion)
	both("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/content-download", "GetLayerVersionContent", s.downloadLayer)

	// Concurrency (GET/PUT/DELETE share a path across API versions).
	both("PUT", "/2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency", s.putFunctionConcurrency)
	both("DELETE", "/2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency", s.deleteFunctionConcurrency)
	both("GET", "/2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency", s.getFunctionConcurrency)
	both("PUT", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "PutProvisionedConcurrencyConfig", s.putProvisionedConcurrency)
	both("GET", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "GetProvisionedConcurrencyConfig", s.getProvisionedConcurrency)
	both("DELETE", "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", "DeleteProvisionedConcurrencyConfig", s.deleteProvisionedConcurrency)

	// Tags, resource policies, event invoke configs.
	both("POST", "/2017-03-31/tags/{Resource}", "TagResource", s.tagResource)
	both("DELETE", "/2017-03-31/tags/{Resource}", "UntagResource", s.untagResource)
	both("GET", "/2017-03-31/tags/{Resource}", "ListTags", s.listTags)
	both("POST", "/2015-03-31/functions/{FunctionName}/policy", "AddPermission", s.addPermission)
	both("GET", "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy", s.getPolicy)
	both("DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission", s.removePermission)
	both("POST", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "AddLayerVersionPermission", s.addLayerVersionPermission)
	both("GET", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "GetLayerVersionPolicy", s.getLayerVersionPolicy)
	both("DELETE", "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}", "RemoveLayerVersionPermission", s.removeLayerVersionPermission)
	both("PUT", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "PutFunctionEventInvokeConfig", s.putEventInvokeConfig)
	both("POST", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "UpdateFunctionEventInvokeConfig", s.updateEventInvokeConfig)
	both("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "GetFunctionEventInvokeConfig", s.getEventInvokeConfig)
	both("DELETE", "/2019-09-25/functions/{FunctionName}/event-invoke-config", "DeleteFunctionEventInvokeConfig", s.deleteEventInvokeConfig)
	both("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config/list", "ListFunctionEventInvokeConfigs", s.listEventInvokeConfigs)

	// Reads Terraform performs on every function.
	both("GET", "/2020-06-30/functions/{FunctionName}/code-signing-config", "GetFunctionCodeSigningConfig", s.getCodeSigningConfig)
	both("GET", "/2021-07-20/functions/{FunctionName}/runtime-management-config", "GetRuntimeManagementConfig", s.getRuntimeManagementConfig)
	both("GET", "/2024-08-31/functions/{FunctionName}/recursion-config", "GetFunctionRecursionConfig", s.getRecursionConfig)

	s.mux.Handle("/", s.handle("Unknown", func(http.ResponseWriter, *http.Request) error {
		return errUnknownOperation
	}))
}
