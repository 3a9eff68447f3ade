// Package api serves the AWS Lambda REST API (rest-json, 2015-03-31 and
// friends) over HTTP: it decodes requests exactly as the AWS SDKs and CLI
// send them, calls control for the function lifecycle and an Invoker for
// invocations, and renders results and errors in AWS's wire format
// (x-amzn-RequestId on every response, x-amzn-ErrorType plus a JSON body
// with the right Type/Message casing on errors).
//
// The whole surface is listed in routes.go: functions, versions, aliases,
// layers (with lambdad's own content-download paths standing in for
// presigned S3 URLs), concurrency, tags, resource policies, event invoke
// configurations and the read-only settings Terraform polls.
//
// It imports the standard library, internal/lambda, internal/control and
// internal/async (the event invoke configuration's wire type); invocation
// is reached only through the Invoker interface it declares.
package api
